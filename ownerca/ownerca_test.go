package ownerca

import (
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/keyload"
)

// One CA and two release certificates for all tests: RSA keys take a while.
var pki = struct {
	sync.Once
	ca, release, other *KeyPair
	err                error
}{}

func testPKI(t *testing.T) (ca, release, other *KeyPair) {
	t.Helper()
	pki.Do(func() {
		if pki.ca, pki.err = NewCA(Options{Subject: "test owner CA", Bits: 2048}); pki.err != nil {
			return
		}
		if pki.release, pki.err = Issue(pki.ca, Options{Subject: "test release"}); pki.err != nil {
			return
		}
		var otherCA *KeyPair
		if otherCA, pki.err = NewCA(Options{Subject: "another CA", Bits: 2048}); pki.err != nil {
			return
		}
		pki.other, pki.err = Issue(otherCA, Options{Subject: "signed by another CA"})
	})
	if pki.err != nil {
		t.Fatal(pki.err)
	}
	return pki.ca, pki.release, pki.other
}

func TestNewCAAndIssue(t *testing.T) {
	ca, release, other := testPKI(t)
	if !ca.Cert.IsCA || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 || ca.Cert.KeyUsage&x509.KeyUsageDigitalSignature != 0 {
		t.Errorf("CA usage: CA %v, usage %b", ca.Cert.IsCA, ca.Cert.KeyUsage)
	}
	if f := Verify(ca.Cert, release.Cert); f.Err() != nil || len(f.Warnings) != 0 {
		t.Errorf("release: %+v", f)
	}
	if f := Verify(ca.Cert, other.Cert); f.Err() == nil || !strings.Contains(f.Err().Error(), "not signed by the CA") || !strings.Contains(f.Err().Error(), "AuthorityKeyIdentifier") {
		t.Errorf("signed by another CA: %v", f.Err())
	}
	if f := Verify(ca.Cert, ca.Cert); f.Err() == nil || !strings.Contains(f.Err().Error(), "itself a CA") {
		t.Errorf("the CA as a release certificate: %v", f.Err())
	}
	// The project's own reader: the key id the kernel will use is evmctl's
	// default, so signatures made the usual way find the key.
	for _, kp := range []*KeyPair{ca, release} {
		certs, err := keyload.ParseCertificates("test", kp.Cert.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if w := certs[0].Warning(); w != "" || certs[0].KeyID != KeyID(kp.Cert)[32:] {
			t.Errorf("%s: key id %s (SKI %s), warning %q", kp.Cert.Subject, certs[0].KeyID, KeyID(kp.Cert), w)
		}
	}
	if _, err := Issue(release, Options{Subject: "x"}); err == nil {
		t.Error("a release certificate issued another")
	}
	for _, o := range []Options{{Subject: ""}, {Subject: "x", Bits: 1024}, {Subject: "x", Days: -1}} {
		if _, err := NewCA(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// openssl agrees: the chain verifies, and the SubjectKeyIdentifier is the
// one openssl computes for the key (RFC 5280 method 1).
func TestOpenSSLAgrees(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl")
	}
	ca, release, _ := testPKI(t)
	dir := t.TempDir()
	caFiles, err := ca.Write(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	relFiles, err := release.Write(filepath.Join(dir, "release"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("openssl", "verify", "-CAfile", caFiles.PEM, relFiles.PEM).CombinedOutput(); err != nil {
		t.Errorf("openssl verify: %v\n%s", err, out)
	}
	out, err := exec.Command("openssl", "x509", "-in", relFiles.PEM, "-noout", "-ext", "subjectKeyIdentifier,authorityKeyIdentifier,basicConstraints,keyUsage").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ToLower(strings.ReplaceAll(string(out), ":", ""))
	if !strings.Contains(text, KeyID(release.Cert)) || !strings.Contains(text, KeyID(ca.Cert)) || !strings.Contains(text, "cafalse") {
		t.Errorf("openssl sees:\n%s", out)
	}
	// The SKI from the public key as openssl hands it out.
	pub, err := exec.Command("openssl", "x509", "-in", relFiles.PEM, "-noout", "-pubkey").Output()
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(dir, "pub.pem")
	os.WriteFile(pubFile, pub, 0o644)
	der, err := exec.Command("openssl", "pkey", "-pubin", "-in", pubFile, "-outform", "DER").Output()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	ski, err := subjectKeyID(parsed)
	if err != nil || hex.EncodeToString(ski) != KeyID(release.Cert) {
		t.Errorf("SKI %x, certificate says %s", ski, KeyID(release.Cert))
	}
}

func TestWriteAndLoad(t *testing.T) {
	ca, release, _ := testPKI(t)
	dir := t.TempDir()
	f, err := ca.Write(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f.Key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file %v %v, want mode 0600", st.Mode(), err)
	}
	if _, err := ca.Write(filepath.Join(dir, "ca")); err == nil || !strings.Contains(err.Error(), "not overwritten") {
		t.Errorf("second write: %v", err)
	}
	back, err := LoadCA(f.DER, f.Key)
	if err != nil || !back.Cert.Equal(ca.Cert) {
		t.Fatalf("load: %v", err)
	}
	// A release certificate is not a CA; a key that is not the CA's is refused.
	rf, err := release.Write(filepath.Join(dir, "release"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(rf.PEM, rf.Key); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("release as CA: %v", err)
	}
	if _, err := LoadCA(f.PEM, rf.Key); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("wrong key: %v", err)
	}
}

// The kernel accepts what Issue makes under the CA restriction TRUST=ca
// uses, and refuses what another CA signed (the host kernel's keyrings).
func TestKernelAcceptsTheReleaseCertificate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("keyring tests need root")
	}
	ca, release, other := testPKI(t)
	runtime.LockOSThread()
	sess, err := unix.KeyctlJoinSessionKeyring("imaboot-ownerca-test-" + time.Now().Format("150405.000000000"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.KeyctlInt(unix.KEYCTL_CLEAR, sess, 0, 0, 0)
		unix.KeyctlInt(unix.KEYCTL_INVALIDATE, sess, 0, 0, 0)
	})
	caKey, err := unix.AddKey("asymmetric", "", ca.Cert.Raw, sess)
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := unix.KeyctlString(unix.KEYCTL_DESCRIBE, caKey)
	if !strings.HasSuffix(desc, "test owner CA: "+KeyID(ca.Cert)) {
		t.Errorf("the kernel names the CA %q, want its key id %s", desc, KeyID(ca.Cert))
	}
	parent, err := unix.AddKey("keyring", "_ima", nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	ring, _, err := keyload.OpenCAKeyring(keyload.KernelKeyring{Name: "_ima", ID: parent}, keyload.TrustedKey{Serial: caKey, Subject: "test owner CA", ID: KeyID(ca.Cert)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.AddKey("asymmetric", "", release.Cert.Raw, ring.ID); err != nil {
		t.Errorf("release certificate refused: %v", err)
	}
	if _, err := unix.AddKey("asymmetric", "", other.Cert.Raw, ring.ID); !errors.Is(err, unix.ENOKEY) {
		t.Errorf("another CA's certificate: %v, want ENOKEY", err)
	}
}

func TestCheck(t *testing.T) {
	ca, _, _ := testPKI(t)
	id := KeyID(ca.Cert)
	machine := func(t *testing.T, vars map[string][]byte, keys []keyload.TrustedKey, linked bool) Machine {
		efi := t.TempDir()
		ev := filepath.Join(efi, "efivars")
		os.Mkdir(ev, 0o755)
		for name, v := range vars {
			os.WriteFile(filepath.Join(ev, name), append([]byte{7, 0, 0, 0}, v...), 0o644)
		}
		kk := keyload.KernelKeys{Rings: map[string]int{keyload.RingMachine: 1, keyload.RingBuiltin: 2}, Keys: keys, MachineTrusted: linked}
		return Machine{EFI: efi, EFIVars: ev, Keys: func() (keyload.KernelKeys, error) { return kk, nil }}
	}
	good := map[string][]byte{
		"SecureBoot-" + globalGUID:     {1},
		"MokListTrustedRT-" + shimGUID: {1},
		"MokListRT-" + shimGUID:        {0},
		"SetupMode-" + globalGUID:      {0},
		"MokListXRT-" + shimGUID:       {0},
	}
	enrolled := []keyload.TrustedKey{{Serial: 9, Subject: "test owner CA", ID: id, Rings: []string{keyload.RingMachine, keyload.RingSecondary}}}

	s := Check(machine(t, good, enrolled, true), id)
	if len(s.Problems) != 0 || s.CA.Serial != 9 {
		t.Fatalf("enrolled: %q", s.Lines)
	}
	if all := strings.Join(s.Lines, "\n"); !strings.Contains(all, "SecureBoot enabled") || !strings.Contains(all, "MokListTrustedRT set") || !strings.Contains(all, "key 9 in .machine, .secondary_trusted_keys") {
		t.Errorf("lines:\n%s", all)
	}

	pending := map[string][]byte{"SecureBoot-" + globalGUID: {1}, "MokListTrustedRT-" + shimGUID: {1}, "MokNew-" + shimGUID: {0x30}}
	s = Check(machine(t, pending, nil, true), id)
	if all := strings.Join(s.Lines, "\n"); len(s.Problems) != 1 || !strings.Contains(all, "pending") || !strings.Contains(all, "not among the keys the kernel trusts") {
		t.Errorf("import pending:\n%s", all)
	}

	off := map[string][]byte{"SecureBoot-" + globalGUID: {0}, "MokSBStateRT-" + shimGUID: {1}}
	s = Check(machine(t, off, enrolled, false), id)
	all := strings.Join(s.Problems, "\n")
	for _, want := range []string{"SecureBoot disabled", "validation is disabled", "MokListTrustedRT not set", "not linked"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}

	s = Check(machine(t, nil, enrolled, true), id)
	if !strings.Contains(strings.Join(s.Problems, "\n"), "efivarfs is not mounted") {
		t.Errorf("no efivarfs: %q", s.Problems)
	}
	s = Check(Machine{EFI: filepath.Join(t.TempDir(), "none"), Keys: func() (keyload.KernelKeys, error) { return keyload.KernelKeys{}, nil }}, id)
	if !strings.Contains(strings.Join(s.Problems, "\n"), "not booted with UEFI") {
		t.Errorf("BIOS: %q", s.Problems)
	}
}

func TestEnrollSteps(t *testing.T) {
	ca, _, _ := testPKI(t)
	steps := EnrollSteps("/usr/share/imaboot/ca/site.der", ca.Cert)
	for _, want := range []string{"mokutil --import /usr/share/imaboot/ca/site.der", "Enroll MOK, Continue, Yes", "imaboot-ca check --key-id " + KeyID(ca.Cert), "TRUST=ca", "TRUST_CA=" + KeyID(ca.Cert), "needs none of steps 1-3"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}
	if q := shellQuote("my CA's.der"); q != `'my CA'\''s.der'` {
		t.Errorf("quote: %s", q)
	}
}
