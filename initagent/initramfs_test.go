package initagent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A running system's root (here the repository's file system, a disk) is
// not an initramfs; a tmpfs root, or any root with /etc/initrd-release, is.
func TestInInitramfs(t *testing.T) {
	repo, _ := filepath.Abs("..")
	var s unix.Statfs_t
	if err := unix.Statfs(repo, &s); err != nil || s.Type == unix.TMPFS_MAGIC || s.Type == unix.RAMFS_MAGIC {
		t.Skipf("the repository is on tmpfs or ramfs here: %v", err)
	}
	if ok, why := inInitramfs(repo); ok || !strings.Contains(why, "does not exist") {
		t.Errorf("a disk file system: %v, %q", ok, why)
	}
	d, err := os.MkdirTemp(repo, ".initrd-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(d)
	os.MkdirAll(filepath.Join(d, "etc"), 0o755)
	os.WriteFile(filepath.Join(d, "etc/initrd-release"), nil, 0o644)
	if ok, why := inInitramfs(d); !ok || why != "/etc/initrd-release exists" {
		t.Errorf("with /etc/initrd-release: %v, %q", ok, why)
	}
	if os.Geteuid() != 0 {
		return
	}
	m := t.TempDir()
	if err := unix.Mount("tmpfs", m, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(m, unix.MNT_DETACH)
	if ok, why := inInitramfs(m); !ok || why != "/ is tmpfs" {
		t.Errorf("tmpfs: %v, %q", ok, why)
	}
}
