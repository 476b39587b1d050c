package keyload

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyIDMatchesOpenSSLSubjectKeyIdentifier(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []certSpec{
		{name: "rsa", cn: "imaboot test rsa", key: "rsa"},
		{name: "ec", cn: "imaboot test ec", key: "ec"},
		{name: "custom", cn: "imaboot test custom", key: "rsa", ski: "0102030405060708090a0b0c0d0e0f10c0ffee42"},
	} {
		t.Run(s.name, func(t *testing.T) {
			certPEM, keyPEM := certMake(t, dir, s)
			certs, err := ReadCertificateFile(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			if len(certs) != 1 {
				t.Fatalf("%d certificates, want 1", len(certs))
			}
			c := certs[0]
			ski := certOpenSSLSKI(t, certPEM)
			if want := ski[len(ski)-8:]; c.KeyID != want {
				t.Errorf("KeyID %s, want %s (tail of openssl's SKI %s)", c.KeyID, want, ski)
			}
			if c.KeyIDSource != keyIDFromSKI {
				t.Errorf("KeyIDSource %q", c.KeyIDSource)
			}
			if c.Subject != "CN="+s.cn {
				t.Errorf("Subject %q", c.Subject)
			}
			// evmctl's default key id is the key hash: it equals the SKI
			// only when openssl derived the SKI itself.
			evm := certEvmctlKeyID(t, dir, keyPEM)
			if c.KeyHashID != evm {
				t.Errorf("KeyHashID %s, evmctl signed with %s", c.KeyHashID, evm)
			}
			if s.ski == "" && c.Warning() != "" {
				t.Errorf("unexpected warning: %s", c.Warning())
			}
			if s.ski != "" && !strings.Contains(c.Warning(), "--keyid-from-cert") {
				t.Errorf("custom SKI without a warning: %q", c.Warning())
			}
		})
	}
}

func TestKeyIDWithoutSubjectKeyIdentifier(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := certMake(t, dir, certSpec{name: "noski", cn: "no ski here", key: "rsa", ski: "none"})
	certs, err := ReadCertificateFile(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := certs[0]
	if c.KeyIDSource != keyIDFromIssuerSerial {
		t.Fatalf("KeyIDSource %q, want %q", c.KeyIDSource, keyIDFromIssuerSerial)
	}
	// The kernel's id[0] ends with the raw issuer: for "CN=no ski here"
	// that is the tail of the UTF8String "no ski here".
	if c.KeyID != "68657265" { // "here"
		t.Errorf("KeyID %s, want 68657265 (\"here\", tail of the issuer)", c.KeyID)
	}
	if evm := certEvmctlKeyID(t, dir, keyPEM); evm != c.KeyHashID {
		t.Errorf("KeyHashID %s, evmctl signed with %s", c.KeyHashID, evm)
	}
	if !strings.Contains(c.Warning(), "--keyid="+c.KeyID) {
		t.Errorf("warning does not tell how to sign: %q", c.Warning())
	}
}

func TestParsePEMBundleAndDER(t *testing.T) {
	dir := t.TempDir()
	var bundle []byte
	var want []string
	for _, s := range []certSpec{
		{name: "a", cn: "bundle a", key: "rsa"},
		{name: "b", cn: "bundle b", key: "ec"},
		{name: "c", cn: "bundle c", key: "rsa", ski: "aabbccdd11223344"},
	} {
		p, _ := certMake(t, dir, s)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bundle = append(bundle, data...)
		want = append(want, "CN="+s.cn)
	}
	certs, err := ParseCertificates("bundle.pem", bundle)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 3 {
		t.Fatalf("%d certificates, want 3", len(certs))
	}
	for i, c := range certs {
		if c.Subject != want[i] || c.Index != i+1 {
			t.Errorf("certificate %d: subject %q index %d, want %q index %d", i, c.Subject, c.Index, want[i], i+1)
		}
	}
	if certs[2].KeyID != "11223344" {
		t.Errorf("custom SKI key id %s, want 11223344", certs[2].KeyID)
	}

	der := filepath.Join(dir, "a.der")
	certToDER(t, filepath.Join(dir, "a.pem"), der)
	fromDER, err := ReadCertificateFile(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromDER) != 1 || fromDER[0].KeyID != certs[0].KeyID || fromDER[0].Index != 0 {
		t.Errorf("DER: %+v, want the same key id as the PEM (%s)", fromDER, certs[0].KeyID)
	}
}

func TestParseErrorsSayWhichParseFailed(t *testing.T) {
	dir := t.TempDir()
	goodPEM, keyPEM := certMake(t, dir, certSpec{name: "good", cn: "good", key: "rsa"})
	good, _ := os.ReadFile(goodPEM)
	key, _ := os.ReadFile(keyPEM)
	der := filepath.Join(dir, "good.der")
	certToDER(t, goodPEM, der)
	derBytes, _ := os.ReadFile(der)

	cases := []struct {
		name, step string
		index      int
		data       []byte
	}{
		{"empty", "read", 0, nil},
		{"garbage", "PEM", 0, []byte("this is not a certificate\n")},
		{"truncated DER", "X.509", 0, derBytes[:len(derBytes)/2]},
		{"flipped DER", "X.509", 0, append([]byte{0x30, 0x03, 0x02, 0x01}, derBytes[4:]...)},
		{"private key in bundle", "PEM", 2, append(append([]byte{}, good...), key...)},
		{"bad base64", "PEM", 2, append(append([]byte{}, good...), []byte("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCertificates("x.crt", tc.data)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if pe.Step != tc.step || pe.Index != tc.index || pe.File != "x.crt" {
				t.Errorf("step %q index %d file %q, want %q %d x.crt (%v)", pe.Step, pe.Index, pe.File, tc.step, tc.index, err)
			}
			if !strings.Contains(err.Error(), "x.crt") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}
