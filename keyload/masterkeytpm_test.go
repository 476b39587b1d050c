package keyload

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/imaboot/imaboot/keyload/tpm"
	"github.com/imaboot/imaboot/keyload/tpm/swtpm"
)

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
	sess := mkSession(t)
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
	sess := mkSession(t)
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
