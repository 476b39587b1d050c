package initagent

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/ownerca"
)

func TestTrustConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "imaboot.conf")
	for _, tc := range []struct{ src, err string }{
		{"TRUST=ca\nTRUST_CA=24:40:E8:1D:05:D0:64:92:F9:09:D1:58:7C:36:9F:DD:8E:C5:F0:78\n", ""},
		{"TRUST=none\n", ""},
		{"TRUST=ca\n", "TRUST=ca needs TRUST_CA"},
		{"TRUST=firmware\n", "TRUST must be none or ca"},
		{"TRUST=ca\nTRUST_CA=8ec5f078\n", "whole SubjectKeyIdentifier"},
	} {
		must(t, os.WriteFile(conf, []byte(tc.src), 0o644))
		c, err := LoadConfig(conf, nil)
		if tc.err == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), conf) {
			t.Errorf("%q: %v, want an error naming the file and %q", tc.src, err, tc.err)
		}
		_ = c
	}
	c, _ := LoadConfig(filepath.Join(dir, "absent"), nil)
	if c.Trust != TrustAny {
		t.Errorf("default TRUST %q", c.Trust)
	}
}

// trustCert makes a certificate with imaboot-ca's code: a CA (parent nil)
// or a release certificate parent signed.
func trustCert(t *testing.T, cn string, parent *ownerca.KeyPair) *ownerca.KeyPair {
	t.Helper()
	var kp *ownerca.KeyPair
	var err error
	if parent == nil {
		kp, err = ownerca.NewCA(ownerca.Options{Subject: cn, Bits: 2048})
	} else {
		kp, err = ownerca.Issue(parent, ownerca.Options{Subject: cn})
	}
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// trustAgent is an agent with TRUST=ca whose kernel trusts ca: the CA's key
// stands in the test's session keyring, where the kernel would have it in
// .machine; _ima and _evm are made in the session too. files maps root
// paths to certificates.
func trustAgent(t *testing.T, mode Mode, ca *ownerca.KeyPair, enrolled bool, files map[string][]byte) (*Agent, int) {
	t.Helper()
	root := t.TempDir()
	for p, der := range files {
		p = filepath.Join(root, p)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, der, 0o644))
	}
	a, sess := certAgent(t, root, mode)
	a.Config.Trust, a.Config.TrustCA = TrustOwnerCA, ownerca.KeyID(ca.Cert)
	kk := keyload.KernelKeys{Rings: map[string]int{keyload.RingMachine: 1, keyload.RingBuiltin: 2}, MachineTrusted: true}
	if enrolled {
		serial, err := unix.AddKey("asymmetric", "", ca.Cert.Raw, sess)
		if err != nil {
			t.Fatal(err)
		}
		kk.Keys = []keyload.TrustedKey{{Serial: serial, Subject: ca.Cert.Subject.CommonName, ID: a.Config.TrustCA, Rings: []string{keyload.RingMachine, keyload.RingSecondary}}}
	}
	a.kernelKeys = func() (keyload.KernelKeys, error) { return kk, nil }
	return a, sess
}

// runCertSteps runs Boot's own trust-ca, certificate and seal-keyrings
// steps, wired as Boot wires them.
func runCertSteps(a *Agent) error {
	var steps []Step
	for _, s := range a.steps() {
		switch s.Name {
		case "trust-ca", "ima-certificates", "evm-certificates", "seal-keyrings":
			steps = append(steps, s)
		}
	}
	if len(steps) != 4 {
		panic(fmt.Sprintf("Boot's steps: %d of the 4 wanted", len(steps)))
	}
	return a.RunSteps(context.Background(), steps)
}

func TestTrustCALoadsOnlyWhatTheOwnersCASigned(t *testing.T) {
	ca := trustCert(t, "owner CA", nil)
	other := trustCert(t, "other CA", nil)
	release := trustCert(t, "release", ca)
	evmRelease := trustCert(t, "evm release", ca)
	a, sess := trustAgent(t, Enforce, ca, true, map[string][]byte{
		"etc/keys/ima/release.der": release.Cert.Raw,
		"etc/keys/evm/evm.der":     evmRelease.Cert.Raw,
	})
	if err := runCertSteps(a); err != nil {
		t.Fatal(err)
	}
	st := a.Status.Trust
	if st == nil || !st.CA.Found || st.CA.Subject != "owner CA" || len(st.Keyrings) != 2 {
		t.Fatalf("trust status %+v", st)
	}
	for _, k := range st.Keyrings {
		if !k.Closed || len(k.Certificates) != 1 {
			t.Errorf("keyring %+v: want closed with one certificate", k)
		}
	}
	if st.Keyrings[0].Name != "_ima_ca" || st.Keyrings[0].Certificates[0].File != filepath.Join(a.NewRoot, "etc/keys/ima/release.der") {
		t.Errorf("keyring %+v", st.Keyrings[0])
	}
	detail := a.Status.Steps[0].Detail
	if !strings.Contains(detail, `owner's CA "owner CA"`) || !strings.Contains(detail, ".machine") || !strings.Contains(detail, "_ima and _evm accept only") {
		t.Errorf("trust-ca detail %q", detail)
	}
	// seal-keyrings: _ima and _evm, sealed by trust-ca before loading, are
	// reported (one key each: the CA keyring); the CA keyrings are closed.
	seal := a.Status.Steps[3]
	if seal.Name != "seal-keyrings" || seal.Result != ResultOK || a.Status.Keyrings != "sealed" {
		t.Fatalf("seal-keyrings %+v, status keyrings %q", seal, a.Status.Keyrings)
	}
	for _, want := range []string{
		"_ima (key ", ") sealed, 1 key(s): every later add or link is refused",
		"_ima_ca (key ", `) closed, 1 key(s), each signed by the owner's CA "owner CA"`,
		"_evm (key ", "_evm_ca (key ",
	} {
		if !strings.Contains(seal.Detail, want) {
			t.Errorf("seal-keyrings detail lacks %q: %s", want, seal.Detail)
		}
	}
	// Nothing more enters, by either route: _ima itself, or its CA keyring.
	imaRing, err := unix.KeyctlSearch(sess, "keyring", "_ima", 0)
	if err != nil {
		t.Fatal(err)
	}
	caRing, err := unix.KeyctlSearch(imaRing, "keyring", "_ima_ca", 0)
	if err != nil {
		t.Fatal(err)
	}
	more := trustCert(t, "more", ca)
	if _, err := unix.AddKey("asymmetric", "", other.Cert.Raw, imaRing); !errors.Is(err, unix.EPERM) {
		t.Errorf("add to _ima after loading: %v, want EPERM", err)
	}
	if _, err := unix.AddKey("asymmetric", "", more.Cert.Raw, caRing); !errors.Is(err, unix.EACCES) {
		t.Errorf("add a CA-signed certificate to the closed _ima_ca: %v, want EACCES", err)
	}
	// The IMA lookup, recursive from _ima, finds the release certificate.
	if _, err := unix.KeyctlSearch(imaRing, "asymmetric", "id:"+hex.EncodeToString(release.Cert.SubjectKeyId[16:]), 0); err != nil {
		t.Errorf("release certificate not found from _ima: %v", err)
	}
}

// TestTrustCAWithKeyringsOpen: KEYRINGS=open with TRUST=ca. _ima and _evm
// stay sealed (trust-ca sealed them before loading); _ima_ca and _evm_ca
// stay open, to certificates the owner's CA signed and nothing else, and
// for good (their permissions cannot be changed); the warning says so.
func TestTrustCAWithKeyringsOpen(t *testing.T) {
	ca := trustCert(t, "owner CA", nil)
	release := trustCert(t, "release", ca)
	a, sess := trustAgent(t, Enforce, ca, true, map[string][]byte{
		"etc/keys/ima/release.der": release.Cert.Raw,
		"etc/keys/evm/release.der": release.Cert.Raw,
	})
	a.Config.SealKeyrings = false
	if err := runCertSteps(a); err != nil {
		t.Fatal(err)
	}
	seal := a.Status.Steps[3]
	if seal.Result != ResultWarned || a.Status.Keyrings != "open" || len(a.Status.Warnings) != 1 {
		t.Fatalf("seal-keyrings %+v, keyrings %q, warnings %q", seal, a.Status.Keyrings, a.Status.Warnings)
	}
	for _, want := range []string{"KEYRINGS=open: ", "_ima_ca (key ", "_evm_ca (key ", "stay open to certificates the owner's CA signed", "sealed before loading (TRUST=ca)"} {
		if !strings.Contains(seal.Detail, want) {
			t.Errorf("warning lacks %q: %s", want, seal.Detail)
		}
	}
	if strings.Contains(seal.Detail, "certificates of its own") {
		t.Errorf("warning says any certificate can be added: %s", seal.Detail)
	}
	for _, k := range a.Status.Trust.Keyrings {
		if k.Closed {
			t.Errorf("%s reported closed", k.Name)
		}
	}
	ima, err := unix.KeyctlSearch(sess, "keyring", "_ima", 0)
	if err != nil {
		t.Fatal(err)
	}
	imaCA, err := unix.KeyctlSearch(ima, "keyring", "_ima_ca", 0)
	if err != nil {
		t.Fatal(err)
	}
	self := trustCert(t, "self-signed", nil)
	more := trustCert(t, "more", ca)
	if _, err := unix.AddKey("asymmetric", "", more.Cert.Raw, ima); !errors.Is(err, unix.EPERM) {
		t.Errorf("add to _ima: %v, want EPERM (sealed)", err)
	}
	if _, err := unix.AddKey("asymmetric", "", self.Cert.Raw, imaCA); !errors.Is(err, unix.ENOKEY) {
		t.Errorf("a self-signed certificate into the open _ima_ca: %v, want ENOKEY", err)
	}
	if _, err := unix.AddKey("asymmetric", "", more.Cert.Raw, imaCA); err != nil {
		t.Errorf("a CA-signed certificate into the open _ima_ca: %v", err)
	}
	if err := unix.KeyctlSetperm(imaCA, 0x3f3f3f3f); !errors.Is(err, unix.EACCES) {
		t.Errorf("change the open _ima_ca's permissions: %v, want EACCES", err)
	}
}

func TestTrustCARefusesCertificatesOutsideTheChain(t *testing.T) {
	ca := trustCert(t, "owner CA", nil)
	other := trustCert(t, "other CA", nil)
	release := trustCert(t, "release", ca)
	byOther := trustCert(t, "signed elsewhere", other)
	self := trustCert(t, "self-signed", nil)
	for name, der := range map[string][]byte{"other.der": byOther.Cert.Raw, "self.der": self.Cert.Raw} {
		a, _ := trustAgent(t, Enforce, ca, true, map[string][]byte{"etc/keys/ima/10-release.der": release.Cert.Raw, "etc/keys/ima/" + name: der})
		err := runCertSteps(a)
		var se *StepError
		if !errors.As(err, &se) || se.Step != "ima-certificates" {
			t.Fatalf("%s: %v, want ima-certificates to fail", name, err)
		}
		msg := err.Error()
		for _, want := range []string{name, `not signed by the owner's CA "owner CA", key id ` + a.Config.TrustCA, "ENOKEY"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error lacks %q: %s", name, want, msg)
			}
		}
		// The boot stops here: seal-keyrings does not run.
		if k := a.Status.Trust.Keyrings[0]; len(k.Certificates) != 1 {
			t.Errorf("%s: CA keyring %+v, want the release certificate only", name, k)
		}
	}
}

func TestTrustCAWithoutTheCAEnrolled(t *testing.T) {
	ca := trustCert(t, "owner CA", nil)
	release := trustCert(t, "release", ca)
	files := map[string][]byte{"etc/keys/ima/release.der": release.Cert.Raw}

	a, _ := trustAgent(t, Enforce, ca, false, files)
	err := runCertSteps(a)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "trust-ca" || !strings.Contains(err.Error(), "not among the keys the kernel trusts") || !strings.Contains(err.Error(), a.Config.TrustCA) {
		t.Fatalf("enforce without the CA: %v", err)
	}
	if st := a.Status.Trust; st == nil || st.CA.Found {
		t.Errorf("trust status %+v, want the CA not found", st)
	}

	// Permissive: a warning, and the certificates load as without TRUST=ca;
	// the status says the CA was not found and no CA keyring holds them.
	a, sess := trustAgent(t, Permissive, ca, false, files)
	if err := runCertSteps(a); err != nil {
		t.Fatal(err)
	}
	if a.Status.Steps[0].Result != ResultWarned || a.Status.Steps[1].Result != ResultOK {
		t.Errorf("steps %+v", a.Status.Steps)
	}
	if st := a.Status.Trust; st.CA.Found || len(st.Keyrings) != 0 {
		t.Errorf("trust status %+v", st)
	}
	if !ringHolds(t, sess, "_ima", hex.EncodeToString(release.Cert.SubjectKeyId[16:])) {
		t.Error("permissive: the certificate did not load into _ima")
	}
}

func TestTrustNoneSkips(t *testing.T) {
	a, _ := certAgent(t, t.TempDir(), Enforce)
	_, ca, err := a.trustCA(a.waitInputs(&inputs{}))
	var skip skipped
	if !errors.As(err, &skip) || ca != nil || a.Status.Trust != nil {
		t.Errorf("TRUST=none: %v %+v %+v", err, ca, a.Status.Trust)
	}
}
