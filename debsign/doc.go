// Package debsign signs .deb packages for IMA: it computes each regular
// file's digest and IMA signature (relabel.Signer) and writes them as the
// imasigs manifest, a control member of the rewritten package. data.tar is
// copied byte for byte. It also builds the package that ships the
// certificate (keypkg.go) and refreshes a local apt repository (repo.go).
package debsign
