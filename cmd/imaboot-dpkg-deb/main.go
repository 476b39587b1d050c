// Command imaboot-dpkg-deb stands in for dpkg-deb (installed by
// imaboot-dpkg-hooks enable: dpkg-divert --local --rename, then a link to
// this shim). It runs the real dpkg-deb for everything; after "--control
// DEB DIR" it labels the extracted maintainer scripts, so the new preinst
// carries its signature before dpkg executes it; for "--fsys-tarfile DEB"
// run by dpkg it labels every file dpkg extracted (NAME.dpkg-new) once dpkg
// has read the whole archive and before dpkg renames any of them into
// place. A signature is written only on content that hashes to the signed
// digest; a signed data file that cannot be labeled makes the unpack fail,
// so nothing unlabeled replaces a working file. IMABOOT_DPKG_DEB overrides
// the real binary's path (tests); IMABOOT_DPKG_DEB_VERBOSE=1 prints counts.
// See docs/debian-updates.md.
package main

import (
	"os"

	"github.com/imaboot/imaboot/dpkglabel"
)

func main() {
	os.Exit(dpkglabel.NewShim().Run(os.Args[1:]))
}
