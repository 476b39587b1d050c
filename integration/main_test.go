// Package integration boots real Debian kernels (6.1 and 6.12, fetched by
// scripts/fetch-kernels) in QEMU with an initramfs built by
// imaboot-mkinitramfs, and checks the serial console.
//
// Disk layout the tests expect: vda is the ext4 root made by fixture.Root
// (busybox, /sbin/init = fixture.MarkerInit); some tests add a vdb.
package integration

import (
	"fmt"
	"os"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
)

var (
	bins    fixture.Binaries
	kernels []fixture.Kernel
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	repo, err := fixture.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kernels, err = fixture.Kernels(repo)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "imaboot-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins, err = fixture.Build(repo, dir, "imaboot-init", "imaboot-mkinitramfs")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	return m.Run()
}
