package initagent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDeleteTreeSkipsNewRootAndSymlinkTargets(t *testing.T) {
	top := t.TempDir()
	outside := t.TempDir()
	keep := filepath.Join(outside, "keep")
	must(t, os.WriteFile(keep, []byte("x"), 0o644))
	old := filepath.Join(top, "old")
	for _, d := range []string{"etc/imaboot", "lib/modules/6.1", "newroot/sbin"} {
		must(t, os.MkdirAll(filepath.Join(old, d), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(old, "init"), []byte("bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(old, "etc/imaboot/imaboot.conf"), []byte("MODE=enforce"), 0o644))
	must(t, os.WriteFile(filepath.Join(old, "newroot/sbin/init"), []byte("real init"), 0o755))
	must(t, os.Symlink(outside, filepath.Join(old, "lib/link")))

	var st unix.Stat_t
	must(t, unix.Stat(old, &st))
	if err := deleteTree(old, uint64(st.Dev), filepath.Join(old, "newroot")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(old)
	if len(entries) != 1 || entries[0].Name() != "newroot" {
		t.Errorf("left %v", entries)
	}
	if _, err := os.Stat(filepath.Join(old, "newroot/sbin/init")); err != nil {
		t.Errorf("new root touched: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("followed a symlink out of the tree: %v", err)
	}
}

func TestCheckInitInRootResolvesInsideRoot(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "lib/systemd"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "sbin"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "lib/systemd/systemd"), []byte("x"), 0o755))
	// An absolute symlink, as on Debian: it must resolve inside root.
	must(t, os.Symlink("/lib/systemd/systemd", filepath.Join(root, "sbin/init")))
	if err := checkInitInRoot(root, "/sbin/init"); err != nil {
		t.Errorf("init via absolute symlink: %v", err)
	}
	must(t, os.WriteFile(filepath.Join(root, "sbin/notexec"), []byte("x"), 0o644))
	if err := checkInitInRoot(root, "/sbin/notexec"); err == nil || !strings.Contains(err.Error(), "not an executable file") {
		t.Errorf("non-executable init: %v", err)
	}
	if err := checkInitInRoot(root, "/sbin/missing"); err == nil || !strings.Contains(err.Error(), "not found in the root file system") {
		t.Errorf("missing init: %v", err)
	}
}

func TestSwitchRootRefusesWhenNotPID1(t *testing.T) {
	err := SwitchRoot(t.TempDir(), "/sbin/init", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "not PID 1") {
		t.Errorf("got %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
