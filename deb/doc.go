// Package deb reads and writes Debian binary packages (.deb): the ar
// archive that holds debian-binary, control.tar.* and data.tar.*, and the
// compressed tar members inside it.
//
// Layout (deb(5)): the global header "!<arch>\n", then members, each a
// 60-byte header (name 16, mtime 12, uid 6, gid 6, mode 8 octal, size 10
// decimal, "`\n") and its data, padded with "\n" to an even length. The
// first member is debian-binary ("2.0\n"), then control.tar[.gz|.xz|.zst],
// then data.tar[.gz|.xz|.zst|.bz2|.lzma]; members whose names start with
// "_" may follow and are kept as they are.
package deb
