package dpkglabel_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/imaboot-dpkg-hooks in a throw-away root: enable twice, disable
// twice; the real dpkg-deb is back where it was at the end.
func TestHooksScript(t *testing.T) {
	if _, err := exec.LookPath("dpkg-divert"); err != nil {
		t.Skip("no dpkg-divert")
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"var/lib/dpkg/status":                  "",
		"usr/bin/dpkg-deb":                     "the real one",
		"usr/lib/imaboot/imaboot-dpkg-deb":     "#!/bin/sh\n",
		"usr/share/imaboot/dpkg.cfg.d/imaboot": "post-invoke=true\n",
	})
	script, _ := filepath.Abs("../scripts/imaboot-dpkg-hooks")
	run := func(action string, wantOK bool) string {
		t.Helper()
		b, err := exec.Command(script, action, "--root", root).CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("%s: %v\n%s", action, err, b)
		}
		return string(b)
	}
	run("enable", true)
	run("enable", true)
	if out := run("status", true); !strings.HasSuffix(out, "enabled\n") {
		t.Errorf("status after enable:\n%s", out)
	}
	if l, _ := os.Readlink(filepath.Join(root, "usr/bin/dpkg-deb")); l != "/usr/lib/imaboot/imaboot-dpkg-deb" {
		t.Errorf("dpkg-deb -> %q", l)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "usr/bin/dpkg-deb.distrib")); string(b) != "the real one" {
		t.Errorf("dpkg-deb.distrib holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/dpkg/dpkg.cfg.d/imaboot")); string(b) != "post-invoke=true\n" {
		t.Errorf("snippet holds %q", b)
	}
	run("disable", true)
	run("disable", true)
	run("status", false)
	if b, _ := os.ReadFile(filepath.Join(root, "usr/bin/dpkg-deb")); string(b) != "the real one" {
		t.Errorf("after disable dpkg-deb holds %q", b)
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/dpkg/dpkg.cfg.d/imaboot")); err == nil {
		t.Error("snippet left behind")
	}
}

// --help prints the help on stdout; a bad action or argument is one line
// naming the program, exit 2.
func TestHooksScriptHelp(t *testing.T) {
	script, _ := filepath.Abs("../scripts/imaboot-dpkg-hooks")
	out, err := exec.Command(script, "--help").Output()
	if err != nil || !strings.HasPrefix(string(out), "Usage: imaboot-dpkg-hooks") || !strings.Contains(string(out), "Exit status") {
		t.Errorf("--help: %v\n%s", err, out)
	}
	for _, args := range [][]string{{}, {"bogus"}, {"status", "--bogus"}} {
		cmd := exec.Command(script, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if cmd.ProcessState.ExitCode() != 2 || len(out) != 0 || strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "imaboot-dpkg-hooks: ") {
			t.Errorf("%q: %v, stdout %q, stderr %q", args, err, out, stderr.String())
		}
	}
}
