package keyload

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// caPair is a test CA: its certificate and key.
type caPair struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

// caIssue makes an RSA certificate for cn, signed by parent (nil:
// self-signed), as a CA or not, with the SubjectKeyIdentifier openssl and
// imaboot-ca give (SHA-1 of the public key).
func caIssue(t *testing.T, cn string, isCA bool, parent *caPair) ([]byte, *caPair) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ski := sha1.Sum(pub) // any 20 bytes do; unique per key is what matters
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		SubjectKeyId:          ski[:],
		IsCA:                  isCA,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return der, &caPair{cert: cert, key: key}
}

func parseOne(t *testing.T, name string, der []byte) Certificate {
	t.Helper()
	certs, err := ParseCertificates(name, der)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

// The owner's CA stands in a keyring of the test's session, as it stands in
// .machine at boot; _ima is made in the session too.
func TestCAKeyringTakesOnlyWhatTheCASigned(t *testing.T) {
	sess := ringSession(t)
	caDER, ca := caIssue(t, "test owner CA", true, nil)
	otherDER, other := caIssue(t, "another CA", true, nil)
	releaseDER, _ := caIssue(t, "release", false, ca)
	byOtherDER, _ := caIssue(t, "signed by another CA", false, other)
	selfDER, _ := caIssue(t, "self-signed", false, nil)
	release2DER, _ := caIssue(t, "release 2", false, ca)

	machine, err := unix.AddKey("keyring", "machine-standin", nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := unix.AddKey("asymmetric", "", caDER, machine)
	if err != nil {
		t.Fatalf("add the CA: %v", err)
	}
	if _, err := unix.AddKey("asymmetric", "", otherDER, machine); err != nil {
		t.Fatalf("add the other CA: %v", err)
	}
	trusted := TrustedKey{Serial: caKey, Subject: "test owner CA", ID: hex.EncodeToString(ca.cert.SubjectKeyId), Rings: []string{RingMachine}}

	parent, err := ringOpen(RingSpec{Fallback: "_ima", Parent: sess})
	if err != nil {
		t.Fatal(err)
	}
	ring, sealed, err := OpenCAKeyring(parent, trusted)
	if err != nil {
		t.Fatal(err)
	}
	if ring.Name != "_ima_ca" || ring.CA == nil {
		t.Fatalf("ring %+v", ring)
	}
	if sealed.ID != parent.ID || !sealed.Sealed {
		t.Fatalf("parent returned %+v, want %s marked sealed", sealed, parent)
	}
	// The parent takes nothing directly any more, not even the CA's own.
	if _, err := unix.AddKey("asymmetric", "", releaseDER, parent.ID); !errors.Is(err, unix.EPERM) {
		t.Errorf("add to the closed parent: %v, want EPERM", err)
	}
	if err := unix.KeyctlRestrictKeyring(parent.ID, "asymmetric", "builtin_trusted"); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second restriction on the parent: %v, want EEXIST", err)
	}
	// The seal-keyrings step's Seal of the parent as returned only reports
	// (its one key: the CA keyring).
	if rep, err := Seal(sealed); err != nil || rep.How != "sealed" || rep.Keys != 1 {
		t.Errorf("Seal of the parent OpenCAKeyring sealed: %+v, %v; want sealed, 1 key", rep, err)
	}

	set := CertSet{Sources: []string{"test"}}
	for name, der := range map[string][]byte{"10-release.der": releaseDER, "20-other.der": byOtherDER, "30-self.der": selfDER} {
		set.Results = append(set.Results, CertResult{File: name, Cert: parseOne(t, name, der)})
	}
	report, err := set.Load(ring)
	if err == nil {
		t.Fatal("no error for the certificates the CA did not sign")
	}
	if report.Loaded() != 1 {
		t.Fatalf("%d loaded, want 1:\n%s", report.Loaded(), strings.Join(report.Lines(), "\n"))
	}
	for _, res := range report.Results {
		if res.Loaded() {
			if res.File != "10-release.der" {
				t.Errorf("%s loaded", res.File)
			}
			// The kernel finds it through the parent, as IMA searches.
			id, err := unix.KeyctlSearch(parent.ID, "asymmetric", "id:"+res.Cert.KeyID, 0)
			if err != nil || id != res.Key {
				t.Errorf("search id:%s from %s: %d %v, want %d", res.Cert.KeyID, parent, id, err, res.Key)
			}
			continue
		}
		var le *LoadError
		if !errors.As(res.Err, &le) || le.Errno != unix.ENOKEY {
			t.Errorf("%s: %v, want ENOKEY", res.File, res.Err)
			continue
		}
		if msg := res.Err.Error(); !strings.Contains(msg, `not signed by the owner's CA "test owner CA", key id `+trusted.ID) || !strings.Contains(msg, res.File) {
			t.Errorf("rejection does not name the certificate and the CA expected: %s", msg)
		}
	}

	// Closed: nothing more, not even a certificate the CA signed, and the
	// permissions cannot be given back.
	if rep, err := CloseCAKeyring(ring, false); err != nil || rep.Keys != 1 || !strings.Contains(rep.String(), "test owner CA") {
		t.Fatalf("close: %+v (%s), %v; want 1 key, the CA named", rep, rep, err)
	}
	if _, err := unix.AddKey("asymmetric", "", release2DER, ring.ID); !errors.Is(err, unix.EACCES) {
		t.Errorf("add to the closed CA keyring: %v, want EACCES", err)
	}
	if err := unix.KeyctlSetperm(ring.ID, 0x3f3f3f3f); !errors.Is(err, unix.EACCES) {
		t.Errorf("reopen the closed CA keyring: %v, want EACCES", err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, machine, ring.ID, 0, 0); err == nil {
		t.Error("a keyring linked into the closed CA keyring")
	}
}

func TestCAKeyringLeftOpenTakesMoreFromTheCAOnly(t *testing.T) {
	sess := ringSession(t)
	caDER, ca := caIssue(t, "test owner CA", true, nil)
	release2DER, _ := caIssue(t, "release 2", false, ca)
	selfDER, _ := caIssue(t, "self-signed", false, nil)
	caKey, err := unix.AddKey("asymmetric", "", caDER, sess)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := ringOpen(RingSpec{Fallback: "_evm", Parent: sess})
	if err != nil {
		t.Fatal(err)
	}
	ring, _, err := OpenCAKeyring(parent, TrustedKey{Serial: caKey, Subject: "test owner CA", ID: hex.EncodeToString(ca.cert.SubjectKeyId)})
	if err != nil {
		t.Fatal(err)
	}
	if ring.Name != "_evm_ca" {
		t.Errorf("name %s", ring.Name)
	}
	if _, err := CloseCAKeyring(ring, true); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.AddKey("asymmetric", "", release2DER, ring.ID); err != nil {
		t.Errorf("a CA-signed certificate into the open CA keyring: %v", err)
	}
	if _, err := unix.AddKey("asymmetric", "", selfDER, ring.ID); !errors.Is(err, unix.ENOKEY) {
		t.Errorf("a self-signed certificate into the open CA keyring: %v, want ENOKEY", err)
	}
	if err := unix.KeyctlSetperm(ring.ID, 0x3f3f3f3f); !errors.Is(err, unix.EACCES) {
		t.Errorf("change the open CA keyring's permissions: %v, want EACCES", err)
	}
}

func TestOpenCAKeyringRefusesTheKernelsTrustedKeyring(t *testing.T) {
	_, _, err := OpenCAKeyring(KernelKeyring{Name: ".ima", ID: 1, Trusted: true}, TrustedKey{Serial: 2})
	if err == nil || !strings.Contains(err.Error(), "cannot be narrowed") {
		t.Errorf("trusted .ima: %v", err)
	}
}

// A parent someone else restricted before the agent (an _ima left in @u by
// an earlier program) is refused: what its restriction lets in cannot be
// vouched for, and the CA keyring cannot be made inside it either.
func TestOpenCAKeyringRefusesARestrictedParent(t *testing.T) {
	sess := ringSession(t)
	caDER, _ := caIssue(t, "test owner CA", true, nil)
	caKey, err := unix.AddKey("asymmetric", "", caDER, sess)
	if err != nil {
		t.Fatal(err)
	}
	for _, restriction := range [][2]string{{"", ""}, {"asymmetric", "key_or_keyring:" + strconv.Itoa(caKey)}} {
		parent, err := ringOpen(RingSpec{Fallback: "_ima", Parent: sess})
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.KeyctlRestrictKeyring(parent.ID, restriction[0], restriction[1]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := OpenCAKeyring(parent, TrustedKey{Serial: caKey}); err == nil {
			t.Errorf("a parent restricted with %q %q was taken", restriction[0], restriction[1])
		}
		if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, parent.ID, sess, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
}
