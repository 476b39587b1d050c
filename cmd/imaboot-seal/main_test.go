package main

// These tests provision against a fresh swtpm per test (swtpm's server
// socket, --tpm unix:…) and, for the boot emulation, need root for the
// kernel keyrings (a private session keyring; nothing reaches @u).

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/keyload/tpm"
	"github.com/imaboot/imaboot/keyload/tpm/swtpm"
)

type env struct {
	t      *testing.T
	tpmArg string
	sealed string
	evm    string
	stdin  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("provisioning creates kernel keys: needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("swtpm not installed")
	}
	dir := t.TempDir()
	sim, err := swtpm.Start(filepath.Join(dir, "tpm"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return &env{t: t, tpmArg: "unix:" + sim.Socket,
		sealed: filepath.Join(dir, "keys", "kmk.sealed"),
		evm:    filepath.Join(dir, "keys", "evm-key.blob")}
}

// run runs imaboot-seal with the env's TPM and files, returning the exit
// status and the combined output.
func (e *env) run(args ...string) (int, string) {
	e.t.Helper()
	all := append([]string{"--tpm", e.tpmArg, "--sealed", e.sealed, "--evm-blob", e.evm}, args...)
	var out bytes.Buffer
	code := run(all, strings.NewReader(e.stdin), &out, &out)
	return code, out.String()
}

// tpm opens a second connection to the env's TPM (swtpm serves one
// client at a time; each command of imaboot-seal has closed its own).
func (e *env) tpm() interface {
	Send([]byte) ([]byte, error)
	Close() error
} {
	t, err := tpm.Open(e.tpmArg)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func TestInitStatusAndBootEmulation(t *testing.T) {
	e := newEnv(t)
	if code, out := e.run("init"); code != exitOK {
		t.Fatalf("init: %d\n%s", code, out)
	}
	code, out := e.run("status")
	if code != exitOK || !strings.Contains(out, "now: would unseal") || !strings.Contains(out, "under user:kmk, 64 bytes") {
		t.Fatalf("status: %d\n%s", code, out)
	}
	if code, out := e.run("init"); code != exitUsage || !strings.Contains(out, "exists") {
		t.Errorf("second init without --force: %d\n%s", code, out)
	}
	// Provisioning left no key in root's user keyring.
	if _, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", "kmk", 0); err == nil {
		t.Error("a kmk key was left in @u")
	}

	// What the boot agent does: unseal, add kmk, load evm-key, lock.
	runtime.LockOSThread() // never unlocked: the thread ends with the test
	sess, err := unix.KeyctlJoinSessionKeyring(fmt.Sprintf("imaboot-seal-test-%d", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.KeyctlInt(unix.KEYCTL_CLEAR, sess, 0, 0, 0)
		unix.KeyctlInt(unix.KEYCTL_INVALIDATE, sess, 0, 0, 0)
	})
	tp := e.tpm()
	blob, err := tpm.ReadBlob(e.sealed)
	if err != nil {
		t.Fatal(err)
	}
	master, err := tpm.Unseal(tp, blob, tpm.UnsealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(master) != keyload.MasterKeySize {
		t.Fatalf("master key of %d bytes", len(master))
	}
	for _, f := range []string{e.sealed, e.evm} {
		data, _ := os.ReadFile(f)
		if bytes.Contains(data, master) || bytes.Contains(bytes.ToLower(data), []byte(fmt.Sprintf("%x", master))) {
			t.Errorf("%s contains the master key", f)
		}
	}
	if _, err := keyload.AddMasterKey("kmk", master, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := keyload.LoadEVMKeyFile(keyload.EVMKeyName, e.evm, sess); err != nil {
		t.Fatalf("the provisioned EVM key does not load under the unsealed master key: %v", err)
	}
	if err := tpm.ExtendPCR(tp, tpm.DefaultLockPCR, []byte(tpm.LockMeasurement)); err != nil {
		t.Fatal(err)
	}
	if _, err := tpm.Unseal(tp, blob, tpm.UnsealOptions{}); !errors.Is(err, tpm.ErrPolicyMismatch) {
		t.Fatalf("unseal after the lock: %v", err)
	}
	tp.Close()

	code, out = e.run("status")
	if code != exitOK || !strings.Contains(out, "locked until reboot") || !strings.Contains(out, "next boot: would unseal") {
		t.Errorf("status in a locked boot: %d\n%s", code, out)
	}
	code, out = e.run("reseal")
	if code != exitFailed || !strings.Contains(out, "PCR policy mismatch (PCR 13)") || !strings.Contains(out, "lock PCR 13") {
		t.Errorf("reseal in a locked boot: %d\n%s", code, out)
	}
}

func TestResealToPredictedValuesKeepsEVMBlob(t *testing.T) {
	e := newEnv(t)
	if code, out := e.run("init", "--pcrs", "7,8"); code != exitOK {
		t.Fatalf("init: %d\n%s", code, out)
	}
	evmBefore, _ := os.ReadFile(e.evm)
	// A Secure Boot update will extend PCR 7 once with "db update".
	next := tpm.LockedValue(make([]byte, 32), []byte("db update"))
	values := filepath.Join(t.TempDir(), "pcrs")
	os.WriteFile(values, []byte(fmt.Sprintf("sha256:\n  7 : 0x%X  # after the update\n", next)), 0o600)
	if code, out := e.run("reseal", "--pcr-values", values); code != exitOK || !strings.Contains(out, "PCRs 7, 8, 13") {
		t.Fatalf("reseal: %d\n%s", code, out)
	}
	code, out := e.run("status")
	if code != exitFailed || !strings.Contains(out, "would NOT unseal (PCR 7 changed)") {
		t.Fatalf("status before the update: %d\n%s", code, out)
	}
	tp := e.tpm()
	if err := tpm.ExtendPCR(tp, 7, []byte("db update")); err != nil {
		t.Fatal(err)
	}
	tp.Close()
	if code, out := e.run("status"); code != exitOK {
		t.Fatalf("status after the update: %d\n%s", code, out)
	}
	// And reseal with the current values now works too.
	if code, out := e.run("reseal"); code != exitOK {
		t.Fatalf("reseal to current: %d\n%s", code, out)
	}
	evmAfter, _ := os.ReadFile(e.evm)
	if !bytes.Equal(evmBefore, evmAfter) {
		t.Error("reseal changed the EVM key blob")
	}
}

func TestStatusOtherTPMAndCorruptBlob(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	if code, out := a.run("init"); code != exitOK {
		t.Fatalf("init: %d\n%s", code, out)
	}
	b.sealed, b.evm = a.sealed, a.evm
	if code, out := b.run("status"); code != exitFailed || !strings.Contains(out, "not the TPM this blob was sealed with") {
		t.Errorf("status on another TPM: %d\n%s", code, out)
	}
	data, _ := os.ReadFile(a.sealed)
	os.WriteFile(a.sealed, data[:len(data)-5], 0o600)
	if code, out := a.run("status"); code != exitUsage || !strings.Contains(out, a.sealed) || !strings.Contains(out, "corrupt") {
		t.Errorf("status on a truncated blob: %d\n%s", code, out)
	}
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"--help"}, nil, &out, &out); code != exitOK {
		t.Errorf("--help: %d", code)
	}
	for _, f := range []string{"--tpm", "--sealed", "--evm-blob", "--pcrs", "--lock-pcr", "--pcr-value", "--pcr-values", "--force", "--master-name", "--evm-key-len", "--passphrase-file", "--master-type", "Exit status"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("--help does not document %s", f)
		}
	}
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"status", "--force"},
		{"reseal", "--master-name", "x"},
		{"init", "extra"},
		{"init", "--pcr-value", "7=abcd", "--tpm", "unix:/nonexistent"},
		{"init", "--pcrs", "7,x"},
		{"init", "--lock-pcr", "0"},
		{"init", "--master-type", "user"}, // a key file: not sealed
		{"init", "--master-type", "none"},
		{"init", "--master-type", "trusted"}, // needs the raw device
		{"reseal", "--master-type", "trusted"},
	} {
		out.Reset()
		if code := run(args, nil, &out, &out); code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, out.String())
		}
	}
	// Bad input is found before the TPM is opened, and said in one line.
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"init", "--pcrs", "99", "--tpm", "unix:/nonexistent"}, `PCR 99 does not exist`},
		{[]string{"init", "--lock-pcr", "24", "--tpm", "unix:/nonexistent"}, `--lock-pcr 24`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"status", "--bogus"}, `unknown option --bogus`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, nil, &stdout, &stderr)
		if code != exitUsage || stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want 2 and one line with %q", tc.args, code, stdout.String(), stderr.String(), tc.msg)
		}
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"status", "--sealed", dir + "/none", "--evm-blob", dir + "/none2", "--tpm", "unix:/nonexistent"}, nil, &stdout, &stderr); code != exitUsage {
		t.Errorf("status without a blob: exit %d, want %d\n%s", code, exitUsage, stdout.String())
	}
}

func TestParsePCRValues(t *testing.T) {
	v := map[int][]byte{}
	h := strings.Repeat("ab", 32)
	for _, s := range []string{"7=" + h, "8: 0x" + strings.ToUpper(h), "9 " + h} {
		if err := parsePCRValue(s, v); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if len(v) != 3 || v[8][0] != 0xab {
		t.Errorf("parsed %v", v)
	}
	for _, s := range []string{"7=" + h, "24=" + h, "x=" + h, "10=abcd", "11"} {
		if err := parsePCRValue(s, v); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestResealInLockedBootWithRecoveryPassphrase(t *testing.T) {
	e := newEnv(t)
	e.stdin = "open sesame\n"
	if code, out := e.run("init", "--passphrase-file", "-"); code != exitOK || !strings.Contains(out, "recovery passphrase") {
		t.Fatalf("init: %d\n%s", code, out)
	}
	tp := e.tpm()
	if err := tpm.ExtendPCR(tp, tpm.DefaultLockPCR, []byte(tpm.LockMeasurement)); err != nil {
		t.Fatal(err)
	}
	tp.Close()
	next := tpm.LockedValue(make([]byte, 32), []byte("db update"))
	pv := fmt.Sprintf("7=%x", next)
	e.stdin = "wrong\n"
	if code, out := e.run("reseal", "--passphrase-file", "-", "--pcr-value", pv); code != exitFailed || !strings.Contains(out, "wrong recovery passphrase") {
		t.Fatalf("reseal with a wrong passphrase: %d\n%s", code, out)
	}
	pass := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(pass, []byte("open sesame\n"), 0o600)
	if code, out := e.run("reseal", "--passphrase-file", pass, "--pcr-value", pv); code != exitOK {
		t.Fatalf("reseal in a locked boot: %d\n%s", code, out)
	}
	code, out := e.run("status")
	if code != exitFailed || !strings.Contains(out, "recovery passphrase copy: yes") {
		t.Fatalf("status: %d\n%s", code, out)
	}
	// Next boot after the update: PCRs reset, PCR 7 holds the new value.
	blob, err := tpm.ReadBlob(e.sealed)
	if err != nil {
		t.Fatal(err)
	}
	if blob.PCRs[0].Index != 7 || !bytes.Equal(blob.PCRs[0].Value, next) || !bytes.Equal(blob.PCRs[1].Value, make([]byte, 32)) {
		t.Errorf("resealed to %+v", blob.PCRs)
	}
}

func TestInitTrustedWithoutKernelSupport(t *testing.T) {
	if _, err := os.Stat("/sys/module/trusted"); err == nil {
		t.Skip("this kernel has trusted keys; the VM tests cover that path")
	}
	e := newEnv(t)
	code, out := e.run("init", "--master-type", "trusted")
	if code != exitFailed || !strings.Contains(out, "CONFIG_TRUSTED_KEYS") {
		t.Fatalf("init --master-type trusted: %d\n%s", code, out)
	}
	for _, f := range []string{e.sealed, e.evm} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s written although init failed", f)
		}
	}
	tp := e.tpm()
	defer tp.Close()
	if h, err := tpm.PersistentHandles(tp); err != nil || len(h) != 0 {
		t.Errorf("persistent handles %v %v", h, err)
	}
}
