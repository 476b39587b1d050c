package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// On a running system (this host: / is a disk file system, no
// /etc/initrd-release) --hook refuses before it does anything, with exit 2
// and one line saying why. --help goes to stdout.
func TestHookRefusedOutsideInitramfs(t *testing.T) {
	var s unix.Statfs_t
	if err := unix.Statfs("/", &s); err != nil || s.Type == unix.TMPFS_MAGIC || s.Type == unix.RAMFS_MAGIC {
		t.Skip("/ is tmpfs or ramfs here")
	}
	if _, err := os.Stat("/etc/initrd-release"); err == nil {
		t.Skip("this host has /etc/initrd-release")
	}
	bin := filepath.Join(t.TempDir(), "imaboot-init")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--hook", "--root", t.TempDir())
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 2 || stdout.Len() != 0 ||
		!strings.HasPrefix(stderr.String(), "imaboot-init: --hook refused: not in an initramfs (/ is on ") ||
		strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d (%v), stdout %q, stderr %q", code, err, stdout.String(), stderr.String())
	}
	out, err := exec.Command(bin, "--help").Output()
	if err != nil || !strings.Contains(string(out), "--outside-initramfs") {
		t.Errorf("--help: %v\n%s", err, out)
	}
}
