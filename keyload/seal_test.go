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

// TestSealBeforeLoadingComposesWithCARing is the Secure Boot trust mode's
// order: a keyring made inside the ring first, the ring sealed before any
// certificate is loaded, the certificates loaded into the inner keyring.
// Nothing more enters the ring itself; a search of the ring finds the
// certificate inside (as the kernel's recursive search for IMA does); the
// seal-keyrings step's second Seal of the returned ring only reports, while
// a Seal of a ring not known to be sealed refuses the restriction it finds.
func TestSealBeforeLoadingComposesWithCARing(t *testing.T) {
	ring, _ := sealRing(t)
	inner, err := unix.AddKey("keyring", "_ima_ca", nil, ring.ID)
	if err != nil {
		t.Fatal(err)
	}
	early, err := Seal(ring)
	if err != nil {
		t.Fatal(err)
	}
	if !early.Ring.Sealed || ring.Sealed {
		t.Fatalf("Sealed: returned %v, argument %v", early.Ring.Sealed, ring.Sealed)
	}
	release, _ := goCert(t, goCertSpec{key: "rsa2048", subject: pkix.Name{CommonName: "release"}, ski: []byte{1, 1, 1, 1}})
	rogue, _ := goCert(t, goCertSpec{key: "rsa2048", subject: pkix.Name{CommonName: "root's own"}, ski: []byte{2, 2, 2, 2}})
	if err := addCert(inner, release); err != nil {
		t.Fatalf("loading into the inner keyring after the ring was sealed: %v", err)
	}
	if err := addCert(ring.ID, rogue); !errors.Is(err, unix.EPERM) {
		t.Errorf("add_key to the sealed ring: %v, want EPERM", err)
	}
	if _, err := unix.AddKey("keyring", "_ima_other", nil, ring.ID); !errors.Is(err, unix.EPERM) {
		t.Errorf("a second inner keyring: %v, want EPERM", err)
	}
	if _, err := unix.KeyctlSearch(ring.ID, "asymmetric", "id:01010101", 0); err != nil {
		t.Errorf("searching the sealed ring for the certificate in its inner keyring: %v", err)
	}
	rep, err := Seal(early.Ring)
	if err != nil || rep.How != "sealed" || rep.Keys != 1 {
		t.Errorf("Seal of the sealed ring: %+v, %v; want sealed, 1 key (the inner keyring)", rep, err)
	}
	if _, err := Seal(ring); err == nil || !strings.Contains(err.Error(), "EEXIST") {
		t.Errorf("Seal of a ring not marked sealed but restricted: %v, want an EEXIST refusal", err)
	}
}

// TestSealKernelTrustedRing: the kernel's .ima is reported, not touched.
func TestSealKernelTrustedRing(t *testing.T) {
	rep, err := Seal(KernelKeyring{Name: ".ima", ID: 12345, Trusted: true})
	if err != nil || rep.How != "kernel-restricted" {
		t.Errorf("%+v %v", rep, err)
	}
}
