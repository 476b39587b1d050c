// Package dpkglabel applies the IMA signature manifests of installed Debian
// packages (/var/lib/dpkg/info/PKG.imasigs, written by dpkg from the
// packages imaboot-debsign signed) to their files, on the machine, with no
// private key:
//  1. reads dpkg's status file (which packages, in which state) and its
//     diversions (a diverted file of a package lands under another name);
//  2. for each package, reads its manifest (none: the package is reported,
//     its files will be refused under enforcement) and gives each listed
//     file its signature when, and only when, the file's content hashes to
//     the manifest's digest (relabel.ApplyLabelFile; a mismatch is reported
//     and nothing is written); maintainer scripts get theirs in info/;
//  3. reports per package and in total.
//
// Paths are resolved inside the root (openat2 RESOLVE_IN_ROOT), so an
// offline root's symlinks cannot lead outside it.
//
// The same code serves the dpkg post-invoke hook (Pending: only packages
// just unpacked), a whole-system relabel (every installed package), and the
// dpkg-deb shim (LabelControlDir: a control archive dpkg just extracted).
package dpkglabel
