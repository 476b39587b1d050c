// Package mirror is the signing mirror (imaboot-debsign mirror): it reads a
// local copy of a Debian archive in its standard layout and publishes the
// same layout with every package signed for IMA and the archive signed by
// the operator's OpenPGP key. A run, in order:
//
//   - checks upstream's InRelease (or Release and Release.gpg) against the
//     upstream keyring, then each Packages index against Release, and each
//     .deb against its index before signing it: the mirror vouches only for
//     what upstream signed;
//   - signs the packages it has not signed before into a content-addressed
//     store (a cache keyed by the upstream package's SHA-256 and the signing
//     certificate makes an unchanged archive a matter of seconds, and an
//     interrupted run resumes where it stopped);
//   - builds the new dists/ aside (Packages in every compression upstream
//     had, the indexes signing does not change copied, by-hash copies, the
//     key package, Release, InRelease, Release.gpg), links the pool files in,
//     then exchanges the new dists/ with the published one in one rename;
//   - removes what neither the new nor the previous generation names, so a
//     client that read the previous Release still finds its files.
//
// A package that cannot be signed is left out (or, if the operator says
// so, published unsigned); a package whose bytes do not match upstream's
// index is never published.
package mirror
