package keyload

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ringSession puts the test's goroutine on its own OS thread with a fresh
// session keyring and returns the keyring's serial. The thread is never
// unlocked, so it exits with the test and takes its session keyring along;
// the keyring is also cleared and invalidated at cleanup. Everything under
// it is passed explicitly (no @s), since only this thread possesses it.
func ringSession(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("keyring tests need root (CI runs them as root)")
	}
	runtime.LockOSThread()
	name := fmt.Sprintf("imaboot-test-%d-%d-%s", os.Getpid(), time.Now().UnixNano(), t.Name())
	sess, err := unix.KeyctlJoinSessionKeyring(name)
	if err != nil {
		t.Fatalf("join session keyring %s: %v", name, err)
	}
	t.Cleanup(func() {
		unix.KeyctlInt(unix.KEYCTL_CLEAR, sess, 0, 0, 0)
		unix.KeyctlInt(unix.KEYCTL_INVALIDATE, sess, 0, 0, 0)
	})
	return sess
}

func TestOpenKeyringCreatesThenFindsFallback(t *testing.T) {
	sess := ringSession(t)
	noTrusted := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(noTrusted, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := RingSpec{Trusted: ".ima", Fallback: "_ima", Parent: sess, ProcKeys: noTrusted}

	ring, err := ringOpen(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !ring.Created || ring.Trusted || ring.Name != "_ima" {
		t.Fatalf("first open: %+v, want a created _ima", ring)
	}
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, ring.ID)
	if err != nil {
		t.Fatal(err)
	}
	// type;uid;gid;perm;description
	if want := fmt.Sprintf("keyring;0;0;%08x;_ima", ringPerm); desc != want {
		t.Errorf("keyring description %q, want %q", desc, want)
	}

	again, err := ringOpen(spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != ring.ID || again.Created {
		t.Errorf("second open: %+v, want the existing keyring %d", again, ring.ID)
	}

	// The real /proc/keys lists the keyring in the format the trusted
	// lookup parses.
	id, err := ringFindInProcKeys("/proc/keys", "_ima")
	if err != nil {
		t.Fatal(err)
	}
	if id != ring.ID {
		t.Errorf("/proc/keys lookup found %d, want %d", id, ring.ID)
	}
}

func TestOpenKeyringPrefersTrusted(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	listing := "1a2b3c4d I------     1 perm 1f0b0000     0     0 keyring   _ima: empty\n" +
		"0badf00d I------     1 perm 1f0b0000     0     0 asymmetri .ima: X509.rsa 01020304 []\n" +
		"2c6fe5a2 I------     1 perm 1f0f0000     0     0 keyring   .ima: 2\n"
	if err := os.WriteFile(keys, []byte(listing), 0o644); err != nil {
		t.Fatal(err)
	}
	ring, err := ringOpen(RingSpec{Trusted: ".ima", Fallback: "_ima", ProcKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if !ring.Trusted || ring.ID != 0x2c6fe5a2 || ring.Name != ".ima" {
		t.Errorf("got %+v, want trusted .ima 0x2c6fe5a2", ring)
	}
	if _, err := ringOpen(RingSpec{Trusted: ".ima", Fallback: "_ima", ProcKeys: keys + ".missing"}); err == nil || !strings.Contains(err.Error(), ".ima") {
		t.Errorf("unreadable keys list: %v, want an error naming .ima", err)
	}
}

// ringOpen is the agent's way to a keyring: the kernel's trusted one when
// TrustedKeyring finds it, else the fallback.
func ringOpen(spec RingSpec) (KernelKeyring, error) {
	k, ok, err := TrustedKeyring(spec)
	if err != nil || ok {
		return k, err
	}
	return OpenFallbackKeyring(spec)
}
