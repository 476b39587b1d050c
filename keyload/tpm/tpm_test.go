package tpm

// These tests run against a fresh swtpm per test (package swtpm), over its
// server socket; they need the swtpm program (Debian package swtpm).

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/imaboot/imaboot/keyload/tpm/swtpm"
)

// startTPM gives a connection to a new software TPM, stopped at cleanup.
func startTPM(t testing.TB) transport.TPM {
	t.Helper()
	return startTPMIn(t, t.TempDir())
}

func startTPMIn(t testing.TB, dir string) transport.TPM {
	t.Helper()
	if _, err := exec.LookPath("swtpm"); err != nil {
		t.Skip("swtpm not installed")
	}
	sim, err := swtpm.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	conn, err := Open("unix:" + sim.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestSealUnsealRoundTrip(t *testing.T) {
	tp := startTPM(t)
	blob, err := Seal(tp, secret, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := blob.PCRIndexes(); !slices.Equal(got, []int{7, DefaultLockPCR}) {
		t.Errorf("policy PCRs = %v, want [7 %d]", got, DefaultLockPCR)
	}
	// Through the file format, as the agent reads it.
	path := filepath.Join(t.TempDir(), "master.sealed")
	if err := WriteBlob(path, blob); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, secret) {
		t.Fatal("blob file contains the secret in the clear")
	}
	back, err := ReadBlob(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unseal(tp, back, UnsealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, secret) {
		t.Fatalf("unsealed %q, want %q", got, secret)
	}
	// Unsealing does not lock by itself: only the extend does.
	if _, err := Unseal(tp, back, UnsealOptions{}); err != nil {
		t.Fatalf("second unseal before lock: %v", err)
	}
	if h, err := PersistentHandles(tp); err != nil || len(h) != 0 {
		t.Fatalf("persistent handles after seal+unseal: %v %v", h, err)
	}
	assertNoTransients(t, tp)
}

// assertNoTransients checks every transient object and session was flushed.
func assertNoTransients(t *testing.T, tp transport.TPM) {
	t.Helper()
	for _, first := range []tpm2.TPMHT{tpm2.TPMHTTransient, tpm2.TPMHTHMACSession, tpm2.TPMHTPolicySession} {
		rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapHandles, Property: uint32(first) << 24, PropertyCount: 64}.Execute(tp)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := rsp.CapabilityData.Data.Handles()
		for _, x := range h.Handle {
			if uint32(x)>>24 == uint32(first) {
				t.Errorf("handle 0x%08x left loaded", uint32(x))
			}
		}
	}
}

func TestUnsealAfterLockFails(t *testing.T) {
	tp := startTPM(t)
	blob, err := Seal(tp, secret, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blob.Source = "/etc/imaboot/master.sealed"
	if err := ExtendPCR(tp, DefaultLockPCR, []byte(LockMeasurement)); err != nil {
		t.Fatal(err)
	}
	_, err = Unseal(tp, blob, UnsealOptions{})
	if !errors.Is(err, ErrPolicyMismatch) {
		t.Fatalf("unseal after lock: %v, want a policy mismatch", err)
	}
	want := "unseal refused: PCR policy mismatch (PCR 13) for /etc/imaboot/master.sealed"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q\nwant prefix %q", err, want)
	}
	assertNoTransients(t, tp)
	// The lock PCR now holds the value LockedValue predicts.
	now, err := ReadPCRs(tp, tpm2.TPMAlgSHA256, []int{DefaultLockPCR})
	if err != nil {
		t.Fatal(err)
	}
	if want := LockedValue(make([]byte, 32), []byte(LockMeasurement)); !bytes.Equal(now[DefaultLockPCR], want) {
		t.Errorf("lock PCR = %x, want %x", now[DefaultLockPCR], want)
	}
}

func TestUnsealAfterSecureBootPCRChangeNamesPCR7(t *testing.T) {
	tp := startTPM(t)
	blob, err := Seal(tp, secret, SealOptions{PCRs: []int{7}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ExtendPCR(tp, 7, []byte("another Secure Boot state")); err != nil {
		t.Fatal(err)
	}
	_, err = Unseal(tp, blob, UnsealOptions{})
	var pm *PolicyMismatchError
	if !errors.As(err, &pm) || !slices.Equal(pm.Changed, []int{7}) {
		t.Fatalf("got %v, want a mismatch naming PCR 7", err)
	}
	if !strings.Contains(err.Error(), "PCR policy mismatch (PCR 7)") {
		t.Errorf("error text %q", err)
	}
}

func TestResealToPredictedValues(t *testing.T) {
	tp := startTPM(t)
	// Predict PCR 7 after a Secure Boot update, seal to it: refused now,
	// accepted once PCR 7 holds the predicted value.
	next := LockedValue(make([]byte, 32), []byte("db update"))
	blob, err := Seal(tp, secret, SealOptions{PCRValues: map[int][]byte{7: next}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unseal(tp, blob, UnsealOptions{}); !errors.Is(err, ErrPolicyMismatch) {
		t.Fatalf("unseal before the update: %v, want a policy mismatch", err)
	}
	if err := ExtendPCR(tp, 7, []byte("db update")); err != nil {
		t.Fatal(err)
	}
	got, err := Unseal(tp, blob, UnsealOptions{})
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("unseal after the update: %q, %v", got, err)
	}
}

func TestSealInLockedBootUsesResetValue(t *testing.T) {
	// Sealing after this boot's agent locked: the lock PCR is sealed to
	// zeros, so the blob works next boot, not now.
	dir := t.TempDir()
	tp := startTPMIn(t, dir)
	if err := ExtendPCR(tp, DefaultLockPCR, []byte(LockMeasurement)); err != nil {
		t.Fatal(err)
	}
	blob, err := Seal(tp, secret, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unseal(tp, blob, UnsealOptions{}); !errors.Is(err, ErrPolicyMismatch) {
		t.Fatalf("unseal in the locked boot: %v", err)
	}
}

func TestRejectBadBlobs(t *testing.T) {
	tp := startTPM(t)
	blob, err := Seal(tp, secret, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := blob.MarshalBinary()
	dir := t.TempDir()
	cases := map[string]struct {
		data []byte
		want error
	}{
		"truncated": {good[:len(good)/2], ErrCorrupt},
		"empty":     {nil, ErrCorrupt},
		"flipped":   {flip(good, len(good)-60), ErrCorrupt},
		"not-blob":  {[]byte("-----BEGIN CERTIFICATE-----\n"), ErrCorrupt},
		"version":   {withVersion(good, 2), ErrVersion},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name+".sealed")
		os.WriteFile(path, c.data, 0o600)
		_, err := ReadBlob(path)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v, want %v naming %s", name, err, c.want, path)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 0x40
	return c
}

func withVersion(b []byte, v byte) []byte {
	c := slices.Clone(b)
	c[9] = v
	return c
}

func TestRejectBlobFromAnotherTPM(t *testing.T) {
	a, b := startTPM(t), startTPM(t)
	blob, err := Seal(a, secret, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	blob.Source = "/boot/other.sealed"
	_, err = Unseal(b, blob, UnsealOptions{})
	if !errors.Is(err, ErrOtherTPM) || !strings.Contains(err.Error(), "/boot/other.sealed") {
		t.Fatalf("got %v, want ErrOtherTPM naming the file", err)
	}
	// Even with the parent check fooled, the TPM refuses to load it.
	blob.ParentName = parentName(t, b)
	if _, err = Unseal(b, blob, UnsealOptions{}); !errors.Is(err, ErrOtherTPM) {
		t.Fatalf("forged parent name: got %v, want ErrOtherTPM", err)
	}
	assertNoTransients(t, b)
}

func parentName(t *testing.T, tp transport.TPM) []byte {
	p, err := createPrimary(tp, nil)
	if err != nil {
		t.Fatal(err)
	}
	flush(tp, p.handle)
	return p.name.Buffer
}

func TestUnsealSendsOnlyTheEssentialCommands(t *testing.T) {
	c := &Counter{TPM: startTPM(t)}
	blob, err := Seal(c, secret, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Reset()
	if _, err := Unseal(c, blob, UnsealOptions{}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cc := range c.Commands() {
		names = append(names, CommandName(cc))
	}
	want := []string{"CreatePrimary", "Load", "StartAuthSession", "PolicyPCR", "Unseal", "FlushContext", "FlushContext"}
	if !slices.Equal(names, want) {
		t.Errorf("unseal sent %v\nwant %v", names, want)
	}
}

func TestSealOptionsRejectBadPCRs(t *testing.T) {
	for _, o := range []SealOptions{
		{PCRs: []int{24}},
		{PCRs: []int{7, 7}},
		{LockPCR: -2},
		{PCRs: []int{}, LockPCR: -1},
	} {
		if _, _, _, err := o.policy(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// wire records a copy of every command and response, as a bus sniffer would.
type wire struct {
	transport.TPM
	seen [][]byte
}

func (w *wire) Send(cmd []byte) ([]byte, error) {
	w.seen = append(w.seen, slices.Clone(cmd))
	rsp, err := w.TPM.Send(cmd)
	w.seen = append(w.seen, slices.Clone(rsp))
	return rsp, err
}

func TestSecretNeverCrossesTheBusInClear(t *testing.T) {
	w := &wire{TPM: startTPM(t)}
	blob, err := Seal(w, secret, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unseal(w, blob, UnsealOptions{})
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("round trip: %q %v", got, err)
	}
	if len(w.seen) < 10 {
		t.Fatalf("only %d messages seen", len(w.seen))
	}
	for i, m := range w.seen {
		if bytes.Contains(m, secret[:16]) {
			t.Errorf("message %d carries the secret in the clear: %x", i, m)
		}
	}
}

func TestUnsealErrorText(t *testing.T) {
	tp := startTPM(t)
	blob, _ := Seal(tp, secret, SealOptions{PCRs: []int{7, 8}})
	blob.Source = "/etc/imaboot/master.sealed"
	ExtendPCR(tp, 8, []byte("x"))
	ExtendPCR(tp, 13, []byte("x"))
	_, err := Unseal(tp, blob, UnsealOptions{})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "PCR policy mismatch (PCRs 8, 13)") {
		t.Errorf("error %v should name PCRs 8 and 13", err)
	}
}

func TestOpenWaitNoTPM(t *testing.T) {
	start := time.Now()
	_, err := OpenWait(filepath.Join(t.TempDir(), "tpmrm0"), 50*time.Millisecond)
	if !errors.Is(err, ErrNoTPM) || !strings.Contains(err.Error(), "tpmrm0 did not appear within 50ms") {
		t.Fatalf("got %v", err)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("did not wait")
	}
}

// TestRecoveryAuthHasNoZeroByte: passphrases whose SHA-256 holds a zero
// byte ("abc", "xy") were unusable (go-tpm cuts auth values at a zero).
func TestRecoveryAuthHasNoZeroByte(t *testing.T) {
	for _, p := range []string{"abc", "xy", "", "correct horse battery staple"} {
		a := recoveryAuth([]byte(p))
		if len(a) != 32 || bytes.IndexByte(a, 0) >= 0 {
			t.Errorf("%q: auth %x", p, a)
		}
	}
	w := &wire{TPM: startTPM(t)}
	blob, err := Seal(w, secret, SealOptions{RecoveryPassphrase: []byte("abc")})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnsealRecovery(w, blob, []byte("abc"), UnsealOptions{}); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("recovery with \"abc\": %v", err)
	}
}

func TestRecoveryPassphraseOpensLockedBlob(t *testing.T) {
	w := &wire{TPM: startTPM(t)}
	pass := []byte("correct horse battery staple")
	blob, err := Seal(w, secret, SealOptions{RecoveryPassphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := blob.MarshalBinary()
	back, err := ParseBlob(data, "kmk.sealed")
	if err != nil || !back.HasRecovery() {
		t.Fatalf("round trip through the file format: %v", err)
	}
	if err := ExtendPCR(w, DefaultLockPCR, []byte(LockMeasurement)); err != nil {
		t.Fatal(err)
	}
	if _, err := Unseal(w, back, UnsealOptions{}); !errors.Is(err, ErrPolicyMismatch) {
		t.Fatalf("PCR unseal after lock: %v", err)
	}
	got, err := UnsealRecovery(w, back, pass, UnsealOptions{})
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("recovery unseal: %q %v", got, err)
	}
	if _, err := UnsealRecovery(w, back, []byte("wrong"), UnsealOptions{}); !errors.Is(err, ErrBadPassphrase) || !strings.Contains(err.Error(), "kmk.sealed") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	for i, m := range w.seen {
		if bytes.Contains(m, secret[:16]) || bytes.Contains(m, pass) || bytes.Contains(m, recoveryAuth(pass)) {
			t.Errorf("message %d carries the secret or the passphrase in the clear", i)
		}
	}
	plain, _ := Seal(w, secret, SealOptions{})
	if _, err := UnsealRecovery(w, plain, pass, UnsealOptions{}); !errors.Is(err, ErrNoRecovery) {
		t.Errorf("blob without recovery: %v", err)
	}
}
