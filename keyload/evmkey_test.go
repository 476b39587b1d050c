package keyload

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// evmSetup adds a random user master key to a fresh session keyring.
func evmSetup(t *testing.T) (sess int, master []byte) {
	sess = ringSession(t)
	k, err := NewMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	master = bytes.Clone(k)
	if _, err := AddMasterKey("kmk-evmtest", k, sess); err != nil {
		t.Fatal(err)
	}
	return sess, master
}

func TestNewEVMKeyThenLoadBlob(t *testing.T) {
	sess, _ := evmSetup(t)
	id, blob, err := NewEVMKey(EVMKeyName, "user:kmk-evmtest", DefaultEVMKeyLen, sess)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(blob, []byte("default user:kmk-evmtest 64 ")) {
		t.Fatalf("blob starts %q", blob[:min(40, len(blob))])
	}
	// Boot: the key is loaded again from the stored blob.
	if err := DropKey(id); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "evm.blob")
	os.WriteFile(file, append(blob, '\n'), 0o600)
	id2, err := LoadEVMKeyFile(EVMKeyName, file, sess)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadEVMKeyBlob(id2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, blob) {
		t.Errorf("reloaded key reads back differently:\n%s\n%s", back, blob)
	}
	desc, _ := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id2)
	if !strings.HasPrefix(desc, "encrypted;") || !strings.HasSuffix(desc, ";evm-key") {
		t.Errorf("key describes as %q", desc)
	}
}

// evmBlobWithoutMasterKey makes an EVM key blob, drops the key and unlinks
// its master key from the session keyring. Unlinked, not invalidated: an
// invalidated key is still found (as revoked) until the kernel's garbage
// collector runs.
func evmBlobWithoutMasterKey(t *testing.T) (sess int, blob []byte) {
	t.Helper()
	sess, _ = evmSetup(t)
	id, blob, err := NewEVMKey(EVMKeyName, "user:kmk-evmtest", 32, sess)
	if err != nil {
		t.Fatal(err)
	}
	DropKey(id)
	mk, _ := unix.KeyctlSearch(sess, "user", "kmk-evmtest", 0)
	unix.KeyctlInt(unix.KEYCTL_UNLINK, mk, sess, 0, 0)
	return sess, blob
}

func TestLoadEVMKeyUnderWrongMasterKey(t *testing.T) {
	sess, blob := evmBlobWithoutMasterKey(t)
	// Another machine's master key under the same name.
	other, _ := NewMasterKey()
	if _, err := AddMasterKey("kmk-evmtest", other, sess); err != nil {
		t.Fatal(err)
	}
	_, err := LoadEVMKey(EVMKeyName, blob, "/etc/keys/evm.blob", sess)
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "/etc/keys/evm.blob") ||
		!strings.Contains(err.Error(), "user:kmk-evmtest") {
		t.Fatalf("got %v, want EINVAL naming the file and the master key", err)
	}
}

func TestLoadEVMKeyWithoutMasterKey(t *testing.T) {
	sess, blob := evmBlobWithoutMasterKey(t)
	_, err := LoadEVMKey(EVMKeyName, blob, "evm.blob", sess)
	if !errors.Is(err, unix.ENOKEY) || !strings.Contains(err.Error(), "master key user:kmk-evmtest not found") {
		t.Fatalf("got %v, want ENOKEY naming the master key", err)
	}
	if _, err := LoadEVMKey(EVMKeyName, []byte(" \n"), "empty.blob", sess); err == nil || !strings.Contains(err.Error(), "empty.blob") {
		t.Errorf("empty blob: %v", err)
	}
}

func TestNewEVMKeyWithoutMasterKeyLeavesNothing(t *testing.T) {
	sess := ringSession(t)
	_, _, err := NewEVMKey(EVMKeyName, "user:kmk-absent", 32, sess)
	if !errors.Is(err, unix.ENOKEY) || !strings.Contains(err.Error(), "master key user:kmk-absent not found") {
		t.Fatalf("got %v", err)
	}
	if id, err := unix.KeyctlSearch(sess, "encrypted", EVMKeyName, 0); err == nil {
		t.Errorf("a useless %s (key %d) was left in the keyring", EVMKeyName, id)
	}
}
