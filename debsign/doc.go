// Package debsign signs Debian packages for IMA where the private key lives
// (a build host, a mirror): for a .deb it
//  1. reads the ar archive and the control archive (control, conffiles,
//     maintainer scripts);
//  2. hashes every regular file of data.tar, skipping mutable files —
//     conffiles and files under /etc, unless executable — and every
//     executable control member (dpkg runs maintainer scripts directly);
//  3. signs each digest (relabel.Signer: version-2 IMA signatures, the bytes
//     evmctl ima_sign writes), in parallel;
//  4. writes the imasigs manifest (package imasigs) as the control member
//     "imasigs", replacing one already there, and the package back with
//     data.tar copied byte for byte, atomically.
//
// The machine that installs the package only applies the manifest
// (dpkglabel); the kernel verifies the signatures.
package debsign
