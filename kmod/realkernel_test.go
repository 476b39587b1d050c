package kmod_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/imaboot/imaboot/kmod"
)

// The real Debian kernels are extracted (dpkg -x) by the project's fetch
// script into the git-ignored cache:
//
//	.cache/kernels/bookworm/root/lib/modules/6.1.*/       (.ko, no modules.dep)
//	.cache/kernels/trixie/root/usr/lib/modules/6.12.*/    (.ko.xz, no modules.dep)
//
// These tests skip only when that cache is absent.
func kernelRoot(t *testing.T, suite string) string {
	cache := filepath.Join("..", ".cache")
	if c := os.Getenv("IMABOOT_CACHE"); c != "" {
		cache = c
	}
	root := filepath.Join(cache, "kernels", suite, "root")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("kernel cache %s absent (fetch the test kernels first)", root)
	}
	return root
}

func TestRealKernel61(t *testing.T) {
	x, mods := resolveVirtio(t, "bookworm")
	// TESTING.md saw modprobe load virtio_ring, virtio, virtio_pci_modern_dev,
	// virtio_pci_legacy_dev, virtio_pci, virtio_blk; any order that puts
	// each module after what it needs is as good.
	want := []string{"virtio", "virtio_blk", "virtio_pci", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_ring"}
	if got := sorted(names(mods)); !reflect.DeepEqual(got, want) {
		t.Errorf("6.1 modules %v, want %v", got, want)
	}
	checkLoadOrder(t, mods)
	for _, m := range mods {
		if m.Builtin || filepath.Ext(m.Path) != ".ko" {
			t.Errorf("6.1: %+v, want a plain .ko module", m)
		}
	}
	t.Logf("6.1 order: %v", names(mods))
	// ext4 is built in on the cloud kernel.
	if m, err := x.Lookup("ext4"); err != nil || !m.Builtin {
		t.Errorf("ext4: %+v %v, want built in", m, err)
	}
}

func TestRealKernel612(t *testing.T) {
	_, mods := resolveVirtio(t, "trixie")
	got := names(mods)
	checkLoadOrder(t, mods)
	if i := slices.Index(got, "virtio_pci"); i < 0 || !mods[i].Builtin {
		t.Errorf("6.12: virtio_pci not reported built in: %+v", mods)
	}
	blk := mods[len(mods)-1]
	if blk.Name != "virtio_blk" || blk.Builtin || filepath.Ext(blk.Path) != ".xz" {
		t.Errorf("6.12: virtio_blk resolved as %+v, want a .ko.xz module last", blk)
	}
	t.Logf("6.12 order: %v", got)
}

// resolveVirtio opens the module directory of the cached kernel of suite
// and resolves the disk drivers the VM tests load.
func resolveVirtio(t *testing.T, suite string) (*kmod.Index, []kmod.Module) {
	t.Helper()
	dir, _, err := kmod.FindDir(kernelRoot(t, suite), "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := kmod.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := x.Resolve([]string{"virtio_pci", "virtio_blk"})
	if err != nil {
		t.Fatal(err)
	}
	return x, mods
}

// checkLoadOrder fails unless every module comes after all it needs.
func checkLoadOrder(t *testing.T, mods []kmod.Module) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range mods {
		for _, d := range m.Deps {
			if !seen[d] {
				t.Errorf("%s comes before its dependency %s in %v", m.Name, d, names(mods))
			}
		}
		seen[m.Name] = true
	}
}
