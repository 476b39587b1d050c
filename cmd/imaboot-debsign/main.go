// Command imaboot-debsign signs .deb packages for IMA: the signatures travel
// inside each package as the imasigs control member. See --help.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
