// Command imaboot-dpkg-deb stands in for dpkg-deb (a local diversion moves
// dpkg's own to /usr/bin/dpkg-deb.distrib): it runs the real one for every
// call, and after "dpkg-deb --control DEB DIR" — how dpkg extracts a
// package's control archive before running its new preinst — it labels
// DIR's maintainer scripts from the package's imasigs manifest, so the
// kernel can appraise them when dpkg executes them. It never changes the
// real dpkg-deb's result: a script it could not label is refused by the
// kernel, not run unsigned.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/imaboot/imaboot/dpkglabel"
)

func main() {
	real := dpkglabel.DpkgDebReal
	if r := os.Getenv("IMABOOT_DPKG_DEB"); r != "" {
		real = r // tests
	}
	args := os.Args[1:]
	control := len(args) == 3 && (args[0] == "--control" || args[0] == "-e")
	if !control {
		err := syscall.Exec(real, append([]string{"dpkg-deb"}, args...), os.Environ())
		fmt.Fprintf(os.Stderr, "imaboot-dpkg-deb: exec %s: %v\n", real, err)
		os.Exit(2)
	}
	cmd := exec.Command(real, args...)
	cmd.Args[0] = "dpkg-deb"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintf(os.Stderr, "imaboot-dpkg-deb: %s: %v\n", real, err)
		os.Exit(2)
	}
	if _, err := dpkglabel.LabelControlDir(args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "imaboot-dpkg-deb: warning: %s: %v\n", args[1], err)
	}
}
