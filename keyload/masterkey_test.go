package keyload

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mkSession runs the rest of the test on a locked OS thread with a fresh
// session keyring (session keyrings belong to a thread's credentials). The
// thread is never unlocked, so it dies with the test; the keyring is also
// cleared and invalidated at cleanup. Keys go into the returned keyring
// explicitly, so nothing reaches root's user keyring.
func mkSession(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("keyring tests need root (CI runs them as root)")
	}
	runtime.LockOSThread()
	name := fmt.Sprintf("imaboot-mk-test-%d-%d", os.Getpid(), time.Now().UnixNano())
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

func mkRead(t *testing.T, id int) []byte {
	t.Helper()
	buf := make([]byte, 512)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil {
		t.Fatalf("read key %d: %v", id, err)
	}
	return buf[:n]
}

func TestAddMasterKeyClearsCallerCopy(t *testing.T) {
	sess := mkSession(t)
	secret, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(secret)
	id, err := AddMasterKey("kmk-test", secret, sess)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(secret, make([]byte, MasterKeySize)) {
		t.Error("caller's copy of the master key was not cleared")
	}
	if got := mkRead(t, id); !bytes.Equal(got, want) {
		t.Errorf("kernel holds %x, want %x", got, want)
	}
	desc, _ := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if !strings.HasPrefix(desc, "user;") || !strings.HasSuffix(desc, ";kmk-test") {
		t.Errorf("key describes as %q", desc)
	}
	if err := DropKey(id); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id); err == nil {
		t.Error("dropped key is still there")
	}
}

func TestAddMasterKeyErrors(t *testing.T) {
	sess := mkSession(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	if _, err := AddMasterKey("bad name", secret, sess); err == nil {
		t.Error("name with a space accepted")
	}
	if !bytes.Equal(secret, make([]byte, len(secret))) {
		t.Error("secret not cleared on error")
	}
	// A keyring serial that does not exist: the error keeps the errno.
	_, err := AddMasterKey("kmk", []byte("x"), 0x7ffffff0)
	if !errors.Is(err, unix.ENOKEY) || !strings.Contains(err.Error(), "ENOKEY") {
		t.Errorf("got %v, want ENOKEY named", err)
	}
}

func TestTrustedLoadPayload(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x05}
	got := TrustedLoadPayload(der, 0x03000000)
	want := "load 3003020105 policyhandle=0x03000000"
	if got != want {
		t.Errorf("payload %q, want %q", got, want)
	}
	if _, err := hex.DecodeString(strings.Fields(got)[1]); err != nil {
		t.Error(err)
	}
	if MasterKeyRef(MasterKeyTrusted, "kmk") != "trusted:kmk" || MasterKeyRef(MasterKeyUser, "kmk") != "user:kmk" {
		t.Error("master key references")
	}
}

func mkUnlinkKey(id, ring int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0)
	return err
}
