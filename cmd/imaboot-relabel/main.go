// Command imaboot-relabel writes and verifies IMA/EVM labels (security.ima,
// security.evm) on an installed system or a mounted image. See --help.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
