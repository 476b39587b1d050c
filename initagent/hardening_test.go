package initagent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/securityfs"
)

// TestSealKeyringsStep: the rings opened are sealed and reported; with
// KEYRINGS=open they stay open, with a warning; none opened is a skip.
func TestSealKeyringsStep(t *testing.T) {
	sess := keySession(t)
	ring, err := keyload.OpenFallbackKeyring(keyload.RingSpec{Fallback: "_ima", Parent: sess})
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := testAgent(t, Enforce)
	a.Config.SealKeyrings = false
	if _, err := a.sealKeyrings(ring, keyload.KernelKeyring{}); stepOutcome(err) != "warn" || a.Status.Keyrings != "open" || !strings.Contains(err.Error(), "KEYRINGS=open") {
		t.Errorf("KEYRINGS=open: %v, status %q", err, a.Status.Keyrings)
	}
	a.Config.SealKeyrings = true
	detail, err := a.sealKeyrings(ring, keyload.KernelKeyring{})
	if err != nil || a.Status.Keyrings != "sealed" || !strings.Contains(detail, "_ima") || !strings.Contains(detail, "sealed, 0 key(s)") {
		t.Errorf("seal: %q %v, status %q", detail, err, a.Status.Keyrings)
	}
	if _, err := unix.AddKey("keyring", "late", nil, ring.ID); !errors.Is(err, unix.EPERM) {
		t.Errorf("add after the step: %v, want EPERM", err)
	}
	// Sealing what is already sealed is refused, and says which.
	if _, err := a.sealKeyrings(ring); err == nil || !strings.Contains(err.Error(), "EEXIST") {
		t.Errorf("second seal: %v", err)
	}
	if _, err := a.sealKeyrings(keyload.KernelKeyring{}, keyload.KernelKeyring{}); stepOutcome(err) != "skip" {
		t.Errorf("nothing opened: %v", err)
	}
}

// lockdownFS is a securityfs with a lockdown file at level, which a write
// raises as the kernel does (and only raises).
func lockdownFS(t *testing.T, level string) (securityfs.FS, string) {
	root := t.TempDir()
	p := filepath.Join(root, "lockdown")
	set := func(l string) {
		line := strings.Replace("none integrity confidentiality", l, "["+l+"]", 1)
		must(t, os.WriteFile(p, []byte(line+"\n"), 0o644))
	}
	if level != "" {
		set(level)
	}
	return securityfs.FS{Root: root, OpenWriter: func(string) (securityfs.Writer, error) {
		return lockdownWriter(func(b []byte) (int, error) { set(string(b)); return len(b), nil }), nil
	}}, p
}

type lockdownWriter func([]byte) (int, error)

func (w lockdownWriter) Write(b []byte) (int, error) { return w(b) }
func (w lockdownWriter) Close() error                { return nil }

// TestLockdownStep: enforce raises none to integrity; LOCKDOWN=none and
// permissive warn; a higher level is kept; no lockdown LSM stops enforce.
func TestLockdownStep(t *testing.T) {
	for _, tc := range []struct {
		mode          Mode
		conf, start   string
		want, outcome string
	}{
		{Enforce, "", "none", "integrity", "ok"},
		{Enforce, "LOCKDOWN=confidentiality\n", "integrity", "confidentiality", "ok"},
		{Enforce, "", "confidentiality", "confidentiality", "ok"},
		{Enforce, "LOCKDOWN=none\n", "none", "none", "warn"},
		{Permissive, "", "none", "none", "warn"},
		{Permissive, "", "integrity", "integrity", "ok"},
		{Enforce, "", "", "", "fail"},
		{Enforce, "LOCKDOWN=none\n", "", "none", "warn"},
	} {
		a, _, _ := testAgent(t, tc.mode)
		must(t, ParseConfig(&a.Config, "conf", []byte(tc.conf)))
		fs, p := lockdownFS(t, tc.start)
		a.secfs = fs
		detail, err := a.raiseLockdown(context.Background())
		if got := stepOutcome(err); got != tc.outcome || a.Status.Lockdown != tc.want {
			t.Errorf("%s %q from %q: %s, status %q (%q, %v); want %s, %q", tc.mode, tc.conf, tc.start, got, a.Status.Lockdown, detail, err, tc.outcome, tc.want)
		}
		if data, _ := os.ReadFile(p); tc.want != "" && tc.start != "" && !strings.Contains(string(data), "["+tc.want+"]") {
			t.Errorf("%s %q: the file reads %q", tc.mode, tc.conf, data)
		}
	}
}
