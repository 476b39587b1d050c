// Command imaboot-dpkg-deb stands in for dpkg-deb (installed by
// dpkg-divert --local --rename): it runs the real dpkg-deb for everything,
// and after "--control DEB DIR" labels the extracted maintainer scripts
// from DIR/imasigs, so the new preinst carries its signature before dpkg
// executes it. It never changes dpkg-deb's exit status: a labeling problem
// is reported on stderr and the script stays unlabeled (the kernel then
// refuses it: fail closed). IMABOOT_DPKG_DEB overrides the real binary's
// path (tests).
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
	real := dpkglabel.RealDpkgDeb
	if p := os.Getenv("IMABOOT_DPKG_DEB"); p != "" {
		real = p
	}
	args := os.Args[1:]
	dir, control := dpkglabel.ControlTarget(args)
	if !control {
		err := syscall.Exec(real, append([]string{"dpkg-deb"}, args...), os.Environ())
		fmt.Fprintf(os.Stderr, "imaboot-dpkg-deb: exec %s: %v\n", real, err)
		os.Exit(2)
	}
	cmd := exec.Command(real, args...)
	cmd.Args[0] = "dpkg-deb"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintf(os.Stderr, "imaboot-dpkg-deb: run %s: %v\n", real, err)
		os.Exit(2)
	}
	if err == nil {
		n, bad, err := dpkglabel.LabelControlDir(dir)
		for _, e := range bad {
			fmt.Fprintf(os.Stderr, "imaboot-dpkg-deb: not labeled: %v\n", e)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "imaboot-dpkg-deb: %v\n", err)
		}
		if os.Getenv("IMABOOT_DPKG_DEB_VERBOSE") != "" {
			fmt.Fprintf(os.Stderr, "imaboot-dpkg-deb: %s: %d control members labeled\n", dir, n)
		}
		os.Exit(0)
	}
	os.Exit(exit.ExitCode())
}
