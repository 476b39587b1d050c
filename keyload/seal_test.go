package keyload

import (
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// sealRing makes an _ima-like keyring under the test's session keyring,
// as OpenFallbackKeyring does under @u.
func sealRing(t *testing.T) (ring KernelKeyring, session int) {
	t.Helper()
	sess := ringSession(t)
	ring, err := OpenFallbackKeyring(RingSpec{Fallback: "_ima", Parent: sess})
	if err != nil {
		t.Fatal(err)
	}
	return ring, sess
}

func addCert(ring int, der []byte) error {
	_, err := unix.AddKey("asymmetric", "", der, ring)
	return err
}

// TestSealRefusesEveryLaterKey: after Seal, adding a certificate and
// linking one that exists elsewhere are both EPERM; what was loaded stays;
// a second Seal is refused with EEXIST named (it cannot vouch for a
// restriction it did not set).
func TestSealRefusesEveryLaterKey(t *testing.T) {
	ring, sess := sealRing(t)
	release, _ := goCert(t, goCertSpec{key: "rsa2048", subject: pkix.Name{CommonName: "release"}, ski: []byte{1, 2, 3, 4}})
	rogue, _ := goCert(t, goCertSpec{key: "rsa2048", subject: pkix.Name{CommonName: "root's own"}, ski: []byte{5, 6, 7, 8}})
	if err := addCert(ring.ID, release); err != nil {
		t.Fatal(err)
	}
	rep, err := Seal(ring)
	if err != nil {
		t.Fatal(err)
	}
	if rep.How != "sealed" || rep.Keys != 1 || !strings.Contains(rep.String(), "_ima") {
		t.Errorf("report %+v (%s)", rep, rep)
	}
	if err := addCert(ring.ID, rogue); !errors.Is(err, unix.EPERM) {
		t.Errorf("add_key after Seal: %v, want EPERM", err)
	}
	// The same certificate loaded in another keyring, then linked.
	other, err := unix.AddKey("keyring", "elsewhere", nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	rogueKey, err := unix.AddKey("asymmetric", "", rogue, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, rogueKey, ring.ID, 0, 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("link after Seal: %v, want EPERM", err)
	}
	if keys, _ := RingKeys(ring.ID); len(keys) != 1 {
		t.Errorf("%d keys in the sealed ring, want the 1 loaded", len(keys))
	}
	if _, err := Seal(ring); err == nil || !strings.Contains(err.Error(), "EEXIST") {
		t.Errorf("second Seal: %v, want an EEXIST refusal", err)
	}
}

// TestSealComposesWithAnchor is the Secure Boot trust mode's path: the ring
// is restricted to certificates signed by a CA held in an anchor keyring,
// a CA-signed certificate loads and a self-signed one does not; Seal then
// closes the anchor: the next CA-signed certificate is refused too, and
// nothing can be put back into the anchor.
func TestSealComposesWithAnchor(t *testing.T) {
	ring, sess := sealRing(t)
	caDER, ca := goCert(t, goCertSpec{key: "rsa2048", subject: pkix.Name{CommonName: "owner CA"}, ca: true, ski: []byte{9, 9, 9, 9}})
	signed, _ := goCert(t, goCertSpec{key: "rsa2048", subject: pkix.Name{CommonName: "release"}, ski: []byte{1, 1, 1, 1}, parent: ca, serial: 11})
	signed2, _ := goCert(t, goCertSpec{key: "rsa2048", subject: pkix.Name{CommonName: "release 2"}, ski: []byte{2, 2, 2, 2}, parent: ca, serial: 12})
	self, _ := goCert(t, goCertSpec{key: "rsa2048", subject: pkix.Name{CommonName: "self"}, ski: []byte{3, 3, 3, 3}, serial: 13})

	anchor, err := unix.AddKey("keyring", "imaboot-anchor", nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.AddKey("asymmetric", "", caDER, anchor); err != nil {
		t.Fatal(err)
	}
	// A copy of the CA that stays reachable, to try to link it back.
	spare, err := unix.AddKey("keyring", "spare", nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := unix.AddKey("asymmetric", "", caDER, spare)
	if err != nil {
		t.Fatal(err)
	}
	ring, err = RestrictToAnchor(ring, anchor, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := addCert(ring.ID, signed); err != nil {
		t.Fatalf("CA-signed certificate refused before sealing: %v", err)
	}
	if err := addCert(ring.ID, self); err == nil {
		t.Fatal("self-signed certificate accepted by the anchor restriction")
	}
	// A second restriction is what the kernel refuses: the reason Seal
	// closes the anchor instead.
	if err := unix.KeyctlRestrictKeyring(ring.ID, "", ""); !errors.Is(err, unix.EEXIST) {
		t.Fatalf("second restriction: %v, want EEXIST", err)
	}
	rep, err := Seal(ring)
	if err != nil {
		t.Fatal(err)
	}
	if rep.How != "anchor closed" || rep.Keys != 1 {
		t.Errorf("report %+v", rep)
	}
	if err := addCert(ring.ID, signed2); err == nil {
		t.Error("CA-signed certificate accepted after Seal")
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_LINK, caKey, anchor, 0, 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("linking the CA back into the anchor: %v, want EPERM", err)
	}
	if _, err := unix.AddKey("asymmetric", "", caDER, anchor); !errors.Is(err, unix.EPERM) {
		t.Errorf("adding the CA back into the anchor: %v, want EPERM", err)
	}
	// Sealing again finds the anchor closed and empty: fine.
	if _, err := Seal(ring); err != nil {
		t.Errorf("second Seal of an anchored ring: %v", err)
	}
}

// TestSealKernelTrustedRing: the kernel's .ima is reported, not touched.
func TestSealKernelTrustedRing(t *testing.T) {
	rep, err := Seal(KernelKeyring{Name: ".ima", ID: 12345, Trusted: true})
	if err != nil || rep.How != "kernel-restricted" {
		t.Errorf("%+v %v", rep, err)
	}
}
