package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Called by its own name, --help prints the shim's help; called as
// dpkg-deb (the symlink dpkg runs), --help is the real dpkg-deb's.
func TestHelp(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "imaboot-dpkg-deb")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--help").Output()
	if err != nil || !strings.HasPrefix(string(out), "Usage: imaboot-dpkg-deb") || !strings.Contains(string(out), "Exit status") || !strings.Contains(string(out), "docs/command-line.md") {
		t.Errorf("imaboot-dpkg-deb --help: %v\n%s", err, out)
	}
	fake := filepath.Join(dir, "real-dpkg-deb")
	os.WriteFile(fake, []byte("#!/bin/sh\necho \"real dpkg-deb $*\"\n"), 0o755)
	os.Symlink(bin, filepath.Join(dir, "dpkg-deb"))
	cmd := exec.Command(filepath.Join(dir, "dpkg-deb"), "--help")
	cmd.Env = append(os.Environ(), "IMABOOT_DPKG_DEB="+fake)
	out, err = cmd.Output()
	if err != nil || string(out) != "real dpkg-deb --help\n" {
		t.Errorf("dpkg-deb --help through the shim: %v, %q", err, out)
	}
}
