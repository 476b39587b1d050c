// Package dpkglabel writes the IMA signatures that signed .debs carry
// (package imasigs) onto the files dpkg installed, on the machine that
// has no private key: a label is written only once the file's current
// content hashes to the digest it was signed over (relabel.ApplySigned).
//
// It reads dpkg's database: the status file (which packages are in which
// state), info/PKG.list (the files of a package), info/PKG.imasigs (its
// manifest) and the diversions file (where a diverted file really lives).
// LabelControlDir labels a freshly extracted control directory (the
// dpkg-deb shim, before dpkg runs the new preinst); Run labels the files
// of installed or just-unpacked packages (imaboot-relabel --from-dpkg).
// Every path is resolved inside the root with openat2(RESOLVE_IN_ROOT), so
// a symlink in an offline root cannot lead outside it.
package dpkglabel
