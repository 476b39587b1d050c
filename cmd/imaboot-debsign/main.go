// Command imaboot-debsign signs Debian packages for IMA where the private
// key lives, and builds the package that ships the certificate. See --help.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
