// Package debarchive reads and writes the files of a Debian archive's
// dists/ tree: deb822 paragraphs (Packages, Release), Release checksum
// lists, compressed indexes, and the archive's OpenPGP signatures (InRelease
// and Release.gpg: verifying upstream's, making the mirror's). It knows
// nothing of IMA; the signing mirror (package mirror) is built on it.
package debarchive
