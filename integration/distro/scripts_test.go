package distro

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shellScripts are the scripts shipped for the generators and the install
// script, with the shell each runs under.
var shellScripts = map[string]string{
	"dracut/98imaboot/module-setup.sh":            "bash", // sourced by dracut (bash)
	"dracut/98imaboot/imaboot-hook.sh":            "sh",   // sourced by dracut's /init
	"initramfs-tools/hooks/imaboot":               "sh",
	"initramfs-tools/scripts/init-bottom/imaboot": "sh",
	"scripts/install":                             "sh",
	"scripts/mkdeb":                               "sh",
	"scripts/imaboot-dpkg-hooks":                  "sh",
	"packaging/deb/preinst":                       "sh",
	"packaging/deb/postinst":                      "sh",
	"packaging/deb/prerm":                         "sh",
	"packaging/deb/postrm":                        "sh",
	"integration/distro/testdata/chroot.sh":       "sh",
}

// TestScriptsShellcheck: every script parses (sh -n under dash, bash -n) and
// passes shellcheck (Debian's shellcheck package) for its shell.
func TestScriptsShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Fatal("shellcheck is not installed (Debian package shellcheck; scripts/setup-host installs it)")
	}
	for path, shell := range shellScripts {
		full := filepath.Join(repo, path)
		if _, err := os.Stat(full); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		parse := "dash"
		if shell == "bash" {
			parse = "bash"
		}
		if out, err := exec.Command(parse, "-n", full).CombinedOutput(); err != nil {
			t.Errorf("%s -n %s: %v\n%s", parse, path, err, out)
		}
		if out, err := exec.Command("shellcheck", "-s", shell, full).CombinedOutput(); err != nil {
			t.Errorf("shellcheck -s %s %s: %v\n%s", shell, path, err, out)
		}
	}
}

// TestInstallLayout: scripts/install DESTDIR= PREFIX= puts the binaries
// under PREFIX and the generator files where dracut and initramfs-tools
// look, executable where they are run.
func TestInstallLayout(t *testing.T) {
	bin := t.TempDir()
	for _, b := range []string{"imaboot-init", "imaboot-policygen", "imaboot-relabel", "imaboot-seal", "imaboot-mkinitramfs", "imaboot-ca"} {
		if err := os.WriteFile(filepath.Join(bin, b), []byte("#!/bin/sh\necho "+b+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dest := t.TempDir()
	cmd := exec.Command(filepath.Join(repo, "scripts/install"), "DESTDIR="+dest, "PREFIX=/usr/local", "BIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/install: %v\n%s", err, out)
	}
	want := map[string]os.FileMode{
		"usr/local/sbin/imaboot-init":                           0o755,
		"usr/local/bin/imaboot-relabel":                         0o755,
		"usr/local/bin/imaboot-policygen":                       0o755,
		"usr/local/bin/imaboot-seal":                            0o755,
		"usr/local/bin/imaboot-mkinitramfs":                     0o755,
		"usr/local/bin/imaboot-ca":                              0o755,
		"usr/lib/dracut/modules.d/98imaboot/module-setup.sh":    0o755,
		"usr/lib/dracut/modules.d/98imaboot/imaboot-hook.sh":    0o755,
		"usr/lib/dracut/modules.d/98imaboot/imaboot.service":    0o644,
		"usr/share/initramfs-tools/hooks/imaboot":               0o755,
		"usr/share/initramfs-tools/scripts/init-bottom/imaboot": 0o755,
		"usr/local/share/doc/imaboot/README.md":                 0o644,
		"usr/local/share/doc/imaboot/docs/debian.md":            0o644,
		"etc/imaboot/imaboot.conf":                              0o644,
	}
	for p, mode := range want {
		st, err := os.Stat(filepath.Join(dest, p))
		if err != nil {
			t.Errorf("not installed: %v", err)
			continue
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), mode)
		}
	}
	got, err := os.ReadFile(filepath.Join(dest, "usr/local/sbin/imaboot-init"))
	if err != nil || !strings.Contains(string(got), "echo imaboot-init") {
		t.Errorf("imaboot-init is not the binary from BIN: %q %v", got, err)
	}
	// A second install keeps the admin's configuration.
	conf := filepath.Join(dest, "etc/imaboot/imaboot.conf")
	if err := os.WriteFile(conf, []byte("MODE=enforce\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(filepath.Join(repo, "scripts/install"), "DESTDIR="+dest, "PREFIX=/usr/local", "BIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/install again: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(conf); string(b) != "MODE=enforce\n" {
		t.Errorf("a second scripts/install replaced the configuration: %q", b)
	}
	if out, err := exec.Command(filepath.Join(repo, "scripts/install"), "NOSUCH=1").CombinedOutput(); err == nil {
		t.Errorf("scripts/install accepted an unknown variable: %s", out)
	}
}
