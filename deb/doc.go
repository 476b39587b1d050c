// Package deb reads and writes the .deb container: an ar archive whose
// members are debian-binary, control.tar[.gz|.xz|.zst] and
// data.tar[.gz|.xz|.zst], in that order (deb(5)). It decompresses and
// recompresses the tar members and walks their entries; it knows nothing of
// signatures.
package deb
