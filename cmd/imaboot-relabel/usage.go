package main

const usageLabel = `Usage: imaboot-relabel [flags] PATH...
       imaboot-relabel verify [flags] PATH...
       imaboot-relabel --from-dpkg [--pending] [--root DIR] ...   (see --from-dpkg --help)

Labels every regular file under PATH with security.ima: a hash (--hash, the default)
or a signature (--sign), and optionally a portable EVM signature (--evm portable).
Configuration files that change at run time (dpkg conffiles under --root, --mutable
patterns and lists) get hashes, never signatures, unless they are executable.
Stays on one file system, skips pseudo file systems, special files and symlinks
under PATH; a PATH that is itself a symlink is followed (as find -H does). The tree
is walked by open directory: a directory swapped for a symlink during the walk is
reported, never followed out of PATH. A hash never replaces a signature (IMA or EVM)
unless --replace-signatures is given: such files are kept and counted.
A rerun skips files whose labels already verify, so an interrupted run can simply be
started again. Contents, mtime and atime are left as they were.

Flags:
  --hash               write hashes (default)
  --sign               sign immutable files; needs --key and --cert (or --keyid)
  --key FILE           PEM private key (RSA or ECDSA P-256/P-384, unencrypted)
  --cert FILE          the key's certificate (PEM or DER); signatures carry the key id
                       the kernel looks it up by: the last 4 bytes of its
                       SubjectKeyIdentifier, or of its serial and issuer without one
  --keyid HEX          key id to use instead of a certificate's (8 hex digits)
  --evm MODE           none (default) or portable: add portable EVM signatures (0x05) to
                       signed files
  --evm-xattr NAME     an extra EVM-protected xattr, as added to the kernel's
                       integrity/evm/evm_xattrs (repeatable)
  --hash-algo NAME     sha1, sha224, sha256 (default), sha384, sha512, sha3-256, ...
                       (--algo is its older spelling)
  --root DIR           root of the system being labeled (default /): dpkg conffiles
                       are read under it and patterns match paths relative to it
  --mutable PATTERN    mutable files: a glob on paths inside --root; a plain path also
                       covers what is under it (repeatable), e.g. --mutable '/var/*'
  --mutable-list FILE  mutable files, one path per line, e.g. the output of
                       'rpm -qac' (repeatable)
  --no-dpkg            do not read ROOT/var/lib/dpkg/info/*.conffiles
  --exclude PATTERN    skip a path: a glob with '/' matches the whole path (in the
                       file system or inside --root), a plain path also covers what is
                       under it, a pattern without '/' matches base names (repeatable)
  --cross-filesystems  descend into other mounted file systems (never pseudo ones)
  --workers N          parallel workers (default: number of CPUs)
  --force              rewrite labels that already verify
  --replace-signatures let a hash replace an IMA signature, and a new security.ima
                       drop the EVM signature over the old one (default: such files
                       are left as they were and counted as kept)
  --dry-run            hash and report, write nothing
  --kernel-fix         first boot under "ima_appraise=fix evm=fix": open every file so
                       the kernel writes hashes and HMACs, and set IMA signatures again
                       where security.evm is missing; --sign/--hash are not used
  --json               print the summary as JSON on stdout
  --progress WHEN      auto (default: when stderr is a terminal), always or never
  -q, --quiet          no progress line (--progress never)
  -v, --verbose        list each skipped path on stderr

Exit status: 0 every file labeled, already right or kept; 1 some files failed (each
listed once: FAILED PATH: STEP: REASON); 2 unusable input or setup (nothing was
touched); 130 interrupted. The same for every imaboot command: docs/command-line.md.

Examples:
  imaboot-relabel /                                  # hash the root file system
  imaboot-relabel --sign --key ima.key --cert ima.der --exclude /home /
  imaboot-relabel --sign --key ima.key --cert ima.der --evm portable \
      --root /mnt/img --mutable-list rpm-config.txt /mnt/img
  rpm -qac > conf.txt; imaboot-relabel --sign --key k.pem --cert c.pem --mutable-list conf.txt /
  imaboot-relabel --kernel-fix /
  imaboot-relabel verify --cert /etc/keys/ima /usr
`

const usageVerify = `Usage: imaboot-relabel verify [flags] PATH...

Checks security.ima and security.evm of every regular file under PATH and reports each
file whose label is missing, malformed, wrong-digest, unknown-key, bad-signature or
unsupported, then a summary. EVM HMACs (kernel-only) are reported as not checkable.
Without --cert no signature can be checked: each is unknown-key, and it says so.
Walks as labeling does (a PATH that is a symlink is followed, nothing under it).

Flags:
  --cert DIR|FILE      certificates (PEM or DER; a directory's files) (repeatable)
  --evm-xattr NAME     an extra EVM-protected xattr (repeatable)
  --root DIR           root of the system being checked (for --exclude)
  --exclude PATTERN    skip paths (see imaboot-relabel --help) (repeatable)
  --cross-filesystems  descend into other mounted file systems
  --workers N          parallel workers (default: number of CPUs)
  --json               print the report as JSON on stdout
  --progress WHEN      auto (default), always or never
  -q, --quiet          no progress line
  -v, --verbose        also list each skipped path on stderr

Exit status: 0 every file verified; 1 some did not (listed); 2 unusable input or
setup; 130 interrupted (docs/command-line.md).

Examples:
  imaboot-relabel verify --cert /etc/keys/ima/ /usr/bin
  imaboot-relabel verify --cert ima.der --json /mnt/img > report.json
`
