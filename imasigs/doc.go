// Package imasigs holds the IMA signature manifest that travels inside a
// signed .deb: one line per signed file with its digest and the
// security.ima value (a signature) to give it once its content matches.
//
// The manifest is a control member named "imasigs" (ControlMember); stock
// dpkg keeps it as /var/lib/dpkg/info/PKG.imasigs (PKG:ARCH.imasigs for
// Multi-Arch: same packages), beside PKG.md5sums.
//
// # Format, version 1
//
//	# comment lines and blank lines are ignored
//	imasigs 1
//	sha256:<hex digest> <hex security.ima value> <path>
//	...
//
// The first line that is not a comment is the header "imasigs 1"; a
// reader refuses another version. Each entry holds three fields separated
// by one space; the path is the rest of the line, so it may hold spaces
// (a path with a newline or carriage return cannot be written, and is not
// signed). A path is either absolute, a file of data.tar as dpkg installs
// it ("/usr/bin/hello"), or "DEBIAN/NAME", a control member (a maintainer
// script such as DEBIAN/postinst). The digest is the file's content hash
// in the algorithm named before the colon (relabel's names: sha256,
// sha512, ...); the value is a version-2 IMA signature (type 0x03) over
// that digest in the same algorithm, byte for byte what evmctl ima_sign
// writes. Entries are sorted by path, each path once; lines end in "\n".
package imasigs
