package keyload

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"
	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/keyload/tpm"
	"github.com/imaboot/imaboot/keyload/tpm/swtpm"
)

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
	sess := ringSession(t)
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
	sess := ringSession(t)
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
	if MasterKeyRef(MasterKeyTrusted, "kmk") != "trusted:kmk" || MasterKeyRef(MasterKeyTPM, "kmk") != "user:kmk" || MasterKeyRef(MasterKeyFile, "kmk") != "user:kmk" {
		t.Error("master key references")
	}
	for _, s := range []string{"tpm", "trusted", "user", "none"} {
		if m, err := ParseMasterKeyMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMasterKeyMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseMasterKeyMode("sealed"); err == nil || !strings.Contains(err.Error(), "tpm, trusted, user or none") {
		t.Errorf("ParseMasterKeyMode(sealed): %v", err)
	}
}

func mkUnlinkKey(id, ring int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0)
	return err
}

func mkTPM(t *testing.T) transport.TPM {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("swtpm not installed")
	}
	sim, err := swtpm.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	c, err := tpm.Open("unix:" + sim.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUnsealMasterKeyThenLoadEVMKeyThenLocked(t *testing.T) {
	sess := ringSession(t)
	tp := mkTPM(t)
	dir := t.TempDir()
	// Provision: a master key sealed to the TPM, an EVM key under it.
	master, _ := NewMasterKey()
	want := bytes.Clone(master)
	blob, err := tpm.Seal(tp, master, tpm.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sealed := filepath.Join(dir, "kmk.sealed")
	tpm.WriteBlob(sealed, blob)
	id, _ := AddMasterKey("kmk-boot", master, sess)
	evmID, evmBlob, err := NewEVMKey(EVMKeyName, "user:kmk-boot", 32, sess)
	if err != nil {
		t.Fatal(err)
	}
	evmFile := filepath.Join(dir, "evm.blob")
	os.WriteFile(evmFile, evmBlob, 0o600)
	mkUnlink(t, sess, id, evmID)

	// Boot.
	res, err := UnsealMasterKey(tp, sealed, "kmk-boot", sess)
	if err != nil || !res.Locked || res.LockPCR != tpm.DefaultLockPCR {
		t.Fatalf("unseal step: %+v %v", res, err)
	}
	if got := mkRead(t, res.KeyID); !bytes.Equal(got, want) {
		t.Fatal("kmk in the kernel is not the sealed master key")
	}
	if _, err := LoadEVMKeyFile(EVMKeyName, evmFile, sess); err != nil {
		t.Fatal(err)
	}
	// Later in the same boot: refused, and still locks.
	res, err = UnsealMasterKey(tp, sealed, "kmk-again", sess)
	if !errors.Is(err, tpm.ErrPolicyMismatch) || res.KeyID != 0 || !res.Locked {
		t.Fatalf("second unseal in the boot: %+v %v", res, err)
	}
}

func TestUnsealMasterKeyCorruptBlobStillLocks(t *testing.T) {
	sess := ringSession(t)
	tp := mkTPM(t)
	bad := filepath.Join(t.TempDir(), "kmk.sealed")
	os.WriteFile(bad, []byte("IMABSEAL\x00\x01garbage"), 0o600)
	res, err := UnsealMasterKey(tp, bad, "kmk", sess)
	if !errors.Is(err, tpm.ErrCorrupt) || !strings.Contains(err.Error(), bad) || !res.Locked {
		t.Fatalf("got %+v %v", res, err)
	}
	now, _ := tpm.ReadPCRs(tp, 0x000B, []int{tpm.DefaultLockPCR})
	if bytes.Equal(now[tpm.DefaultLockPCR], make([]byte, 32)) {
		t.Error("lock PCR not extended")
	}
}

// mkUnlink removes keys from the session keyring (unlinked keys go at
// once; invalidated ones linger as revoked until garbage collection).
func mkUnlink(t *testing.T, ring int, ids ...int) {
	for _, id := range ids {
		if err := mkUnlinkKey(id, ring); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadTrustedMasterKeyWithoutKernelSupport(t *testing.T) {
	// The host kernel has no trusted key type: the step must say so,
	// leave nothing loaded in the TPM, and still lock.
	sess := ringSession(t)
	if _, err := os.Stat("/sys/module/trusted"); err == nil {
		t.Skip("this kernel has trusted keys; the VM tests cover that path")
	}
	tp := mkTPM(t)
	master, _ := NewMasterKey()
	blob, err := tpm.Seal(tp, master, tpm.SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sealed := filepath.Join(t.TempDir(), "kmk.sealed")
	tpm.WriteBlob(sealed, blob)
	res, err := LoadTrustedMasterKey(tp, sealed, "kmk", sess)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "CONFIG_TRUSTED_KEYS") || !strings.Contains(err.Error(), sealed) || !res.Locked {
		t.Fatalf("got %+v %v", res, err)
	}
	if h, _ := tpm.PersistentHandles(tp); len(h) != 0 {
		t.Errorf("persistent handles %v", h)
	}
	// The prepared session and primary were flushed: a new one starts
	// at the same first handle numbers as in a fresh TPM.
	u, err := tpm.PrepareTrustedUnseal(tp, blob, tpm.UnsealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Close(tp)
	if u.Parent != 0x80000000 {
		t.Errorf("primary at %#x: an earlier object was left loaded", u.Parent)
	}
}
