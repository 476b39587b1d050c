// Package distro boots Debian 12 roots whose initramfs was built by the
// distributions' own generators (dracut with its shell init, dracut with
// systemd in the initramfs, initramfs-tools) with imaboot installed by
// scripts/install, and checks that imaboot runs as their hook.
//
// Disk layout the tests expect: vda is the ext4 root (label distroroot)
// made by mkfs.ext4 -d from a debootstrapped bookworm tree (minbase, the
// Debian cloud kernel, systemd, dracut or initramfs-tools), every regular
// file signed by imaboot-relabel, plus /usr/local/bin/unsigned-true (a copy
// of /bin/true without a label) and /usr/local/sbin/imaboot-check, run by
// the root's own init (systemd) as the only unit of imaboot-check.target
// (systemd.unit= on the kernel command line): it prints the marker lines the
// tests check and powers off. The kernel and the initramfs come from the
// tree's /boot.
//
// The debootstrapped trees are cached under .cache/distro (or
// $IMABOOT_CACHE/distro), so only the first run downloads packages.
package distro

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
)

var (
	repo     string
	cacheDir string

	binsOnce sync.Once
	binDir   string
	binsErr  error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	repo, err = fixture.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cacheDir = filepath.Join(repo, ".cache", "distro")
	if c := os.Getenv("IMABOOT_CACHE"); c != "" {
		cacheDir = filepath.Join(c, "distro")
	}
	tmp, err := os.MkdirTemp("", "imaboot-distro-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binDir = tmp
	return m.Run()
}

// binaries builds every command once, for scripts/install (BIN=) and for
// imaboot-relabel on the host.
func binaries(t testing.TB) string {
	t.Helper()
	binsOnce.Do(func() {
		_, binsErr = fixture.Build(repo, binDir, "imaboot-init", "imaboot-policygen", "imaboot-relabel", "imaboot-seal", "imaboot-mkinitramfs", "imaboot-debsign", "imaboot-dpkg-deb")
	})
	if binsErr != nil {
		t.Fatal(binsErr)
	}
	return binDir
}
