// Package relabel writes and checks the integrity labels that the kernel's IMA and EVM
// appraise: security.ima (a file digest or a signature over it) and security.evm (a
// portable signature over the protected extended attributes and the inode's metadata).
//
// What it does, in order, for a tree (Run):
//  1. walks the given paths on one file system, skipping pseudo file systems, special
//     files, symlinks and excluded paths, streaming paths to parallel workers;
//  2. classifies each file as immutable (signed in --sign mode) or mutable
//     (configuration files from dpkg's conffiles, an RPM %config list or user globs:
//     hashed, never signed, except executable configuration, which is signed);
//  3. hashes the file once, checking size, mtime, ctime and inode before and after so
//     a file that changes under it is retried, never labeled with a stale digest;
//  4. skips the file when its current label already verifies, else sets security.ima
//     (one setxattr on the open file: atomic, and on the inode that was hashed), then
//     security.evm when portable EVM signatures are asked for, or removes an EVM
//     signature that covered the old security.ima; an inode with several hard links is
//     labeled once;
//  5. reports a Summary with every failure listed.
//
// Verify checks labels against certificates; KernelFix drives a kernel booted with
// ima_appraise=fix evm=fix into writing hashes and HMACs itself.
//
// # Byte layouts
//
// All multi-byte integers in labels are big-endian. Hash algorithm ids are the kernel's
// enum hash_algo (include/uapi/linux/hash_info.h): md5=1 sha1=2 sha256=4 sha384=5
// sha512=6 sha224=7 sm3=17 streebog256=18 streebog512=19 sha3-256=20 sha3-384=21
// sha3-512=22.
//
// security.ima, digest (legacy, type 0x01; what the kernel and evmctl write for sha1):
//
//	0x01 | sha1 digest (20 bytes)          (a 16-byte digest is MD5)
//
// security.ima, digest with algorithm (type 0x04, "digest_ng"; every other algorithm):
//
//	0x04 | algo (1) | digest (digest size of algo)
//
// signature, version 2 (security.ima type 0x03; security.evm types 0x03 and 0x05;
// type 0x06 is the fs-verity signature, which uses version 3):
//
//	type (1) | version=2 (1) | algo (1) | key id (4) | signature size (2) | signature
//
// The key id is what the kernel finds the verifying key in the .ima/_ima (or .evm/_evm)
// keyring by: the last 4 bytes of the signing certificate's SubjectKeyIdentifier or,
// for a certificate without one, of its raw serial number and issuer Name (DER content
// octets, serial first). internal/keyid holds the rule; imaboot-init reports the same id.
// For RSA the signature is PKCS#1 v1.5 over the digest with its DigestInfo (so RSA
// signatures are deterministic); for ECDSA it is the DER SEQUENCE{r, s} over the digest.
// In security.ima, the signed digest is the file digest in the algorithm of the header.
//
// security.evm, portable signature (type 0x05, same header as above): the signed digest is
// the hash (algorithm of the header) of, in this order,
//
//  1. the value of each of these xattrs that the file has, in the kernel's order
//     (evm_config_default_xattrnames in security/integrity/evm/evm_main.c):
//     security.selinux, security.SMACK64, security.SMACK64EXEC,
//     security.SMACK64TRANSMUTE, security.SMACK64MMAP, security.apparmor,
//     security.ima, security.capability (then any names added through
//     /sys/kernel/security/integrity/evm/evm_xattrs, see EVMOptions.ExtraXattrs);
//     security.ima must be present, or the kernel refuses the signature;
//  2. the kernel's struct h_misc as laid out on a 64-bit little-endian machine (x86_64,
//     arm64), 24 bytes: inode number (8, zero for portable signatures), generation (4,
//     zero), uid (4), gid (4), mode (2, the full i_mode including the file type bits),
//     padding (2, zero). No file system UUID is hashed for portable signatures.
//
// Type 0x02 (EVM HMAC, a 20-byte HMAC-SHA1 the kernel computes with its secret key) is
// decoded for diagnostics but can never be written from user space.
package relabel
