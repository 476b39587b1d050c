// Command imaboot-ca is the owner's side of TRUST=ca: it makes the owner's
// CA and release certificates signed by it, verifies them, prints the steps
// that enroll the CA as a Machine Owner Key, and checks on a machine that
// the firmware and the kernel took it. See --help and docs/trust-chain.md.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
