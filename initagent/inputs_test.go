package initagent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// inputsRoot is a root with one IMA certificate and the given policy (none
// when policy is "").
func inputsRoot(t *testing.T, policy string) string {
	t.Helper()
	root := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "inputs test"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: []byte{1, 2, 3, 4, 5, 6, 7, 8}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(p string, data []byte) {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/keys/ima/a.der", der)
	if policy != "" {
		write("etc/imaboot/ima-policy", []byte(policy))
	}
	return root
}

func inputsAgent(t *testing.T, root string) *Agent {
	a, _, _ := testAgent(t, Enforce)
	a.NewRoot, a.kernel = root, "6.1.0-56-cloud-amd64"
	a.Config.KeysFromRoot = true
	return a
}

// TestInputsReadEverythingOnce: the certificates parsed, the policy read
// and checked for the running kernel, the EVM directory's absence noted;
// a second start does not read again.
func TestInputsReadEverythingOnce(t *testing.T) {
	root := inputsRoot(t, "# comment\nmeasure func=BPRM_CHECK\n")
	a := inputsAgent(t, root)
	in := &inputs{}
	a.startInputs(in)
	first := in.done
	a.startInputs(in)
	if in.done != first {
		t.Fatal("startInputs started a second reading")
	}
	a.waitInputs(in)
	if in.imaErr != nil || len(in.ima.Results) != 1 || in.ima.Results[0].Err != nil || in.ima.Results[0].Cert.KeyID != "05060708" {
		t.Errorf("IMA certificates: %v %+v", in.imaErr, in.ima.Results)
	}
	if !errors.Is(in.evmErr, fs.ErrNotExist) || in.evmX509 != nil {
		t.Errorf("EVM: %v %v", in.evmErr, in.evmX509)
	}
	if in.evmRing != (trustedRing{}) {
		t.Errorf("the EVM keyring was looked up with nothing to load: %+v", in.evmRing)
	}
	if in.policyErr != nil || in.policy == nil || len(in.policy.Rules) != 1 || in.policy.Err() != nil {
		t.Fatalf("policy: %v %+v", in.policyErr, in.policy)
	}
	if want := filepath.Join(root, "etc/imaboot/ima-policy"); in.policyPath != want {
		t.Errorf("policy path %q, want %q", in.policyPath, want)
	}
	if in.took <= 0 {
		t.Errorf("took %v", in.took)
	}
}

// TestInputsPolicyProblemsAreKept: a rule the kernel would refuse and a
// missing policy file are kept for the ima-policy step to report.
func TestInputsPolicyProblemsAreKept(t *testing.T) {
	in := inputsAgent(t, inputsRoot(t, "measure func=BPRM_CHECK bogus_condition=1\n")).waitInputs(&inputs{})
	if in.policyErr != nil || in.policy == nil || in.policy.Err() == nil {
		t.Errorf("invalid rule: %v, check %v", in.policyErr, in.policy.Err())
	}
	in = inputsAgent(t, inputsRoot(t, "")).waitInputs(&inputs{})
	if !errors.Is(in.policyErr, fs.ErrNotExist) {
		t.Errorf("missing policy: %v", in.policyErr)
	}
}
