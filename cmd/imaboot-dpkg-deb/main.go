// Command imaboot-dpkg-deb stands in for dpkg-deb (installed by
// imaboot-dpkg-hooks enable: dpkg-divert --local --rename, then a link to
// this shim). The work is dpkglabel.Shim; see its doc and
// docs/debian-updates.md.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imaboot/imaboot/dpkglabel"
)

const usage = `Usage: imaboot-dpkg-deb [DPKG-DEB ARGS...]   (installed as /usr/bin/dpkg-deb)

The dpkg-deb shim of imaboot-dpkg-hooks enable: dpkg runs it as dpkg-deb.
It runs the real dpkg-deb (` + dpkglabel.RealDpkgDeb + `, where dpkg-divert
--rename put it) with the same arguments, and
  - after "--control DEB DIR" (or "-e") labels the extracted maintainer
    scripts from DIR/imasigs, so a new preinst carries its IMA signature
    before dpkg executes it (a problem is reported and the script stays
    unlabeled: the kernel refuses it);
  - for "--fsys-tarfile DEB" run by dpkg for a signed package, stays until
    dpkg has extracted every file as NAME.dpkg-new and labels each one
    whose content hashes to its signed digest, before dpkg renames any of
    them into place. A signed file that cannot be labeled fails the unpack
    (exit 1): dpkg then puts nothing of the package in place.
With an EVM HMAC key loaded, files with no label yet are replaced by
labeled copies made by mknod with the group imaboot-label (on Linux before
6.9 the IMA policy needs "appraise func=FILE_CHECK fgroup=GID").

Called as dpkg-deb, --help is dpkg-deb's. Environment: IMABOOT_DPKG_DEB
(the real dpkg-deb), IMABOOT_DPKG_DEB_VERBOSE (counts per step).
See docs/debian-updates.md.

Exit status: dpkg-deb's; 1 when a signed data file could not be labeled;
2 when the real dpkg-deb cannot be run or the package's manifest is
unreadable (docs/command-line.md).
`

func main() {
	// Called by its own name (not through the dpkg-deb link), --help is the
	// shim's.
	if filepath.Base(os.Args[0]) == "imaboot-dpkg-deb" && len(os.Args) == 2 && (os.Args[1] == "--help" || os.Args[1] == "-h") {
		fmt.Print(usage)
		return
	}
	os.Exit(dpkglabel.NewShim().Run(os.Args[1:]))
}
