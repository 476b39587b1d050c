package relabel

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/keyload"
)

// TestSignAndVerifyWithoutSubjectKeyIdentifier: a certificate made by openssl
// without a SubjectKeyIdentifier signs and verifies, under the key id keyload
// reports for it (the kernel's issuer+serial id), for PEM and DER alike.
func TestSignAndVerifyWithoutSubjectKeyIdentifier(t *testing.T) {
	dir := labelDir(t)
	k := makeKey(t, dir, "noski", "rsa", "none")
	text := string(run(t, "openssl", "x509", "-in", k.certPEM, "-noout", "-text"))
	if strings.Contains(text, "Subject Key Identifier") {
		t.Fatalf("openssl made a certificate with a SubjectKeyIdentifier:\n%s", text)
	}
	certs, err := keyload.ReadCertificateFile(k.certDER)
	if err != nil {
		t.Fatal(err)
	}
	want := certs[0].KeyID
	if certs[0].KeyIDSource != "issuer+serial" {
		t.Fatalf("keyload: key id %s from %s, want issuer+serial", want, certs[0].KeyIDSource)
	}
	for _, cert := range []string{k.certPEM, k.certDER} {
		t.Run(filepath.Ext(cert), func(t *testing.T) {
			signer, err := LoadSigner(k.key, cert)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%08x", signer.KeyID); got != want {
				t.Errorf("signer key id %s, keyload says the kernel looks it up as %s", got, want)
			}
			f := filepath.Join(dir, "signed"+filepath.Ext(cert))
			writeFile(t, f, "#!/bin/sh\necho no ski\n", 0o755)
			s, err := Run(context.Background(), Options{Paths: []string{f}, Algo: AlgoSHA256, Signer: signer})
			if err != nil || s.Signed != 1 {
				t.Fatalf("sign: %+v %v", s, err)
			}
			if hdr := getIMA(t, f, XattrIMA); len(hdr) < 7 || fmt.Sprintf("%x", hdr[3:7]) != want {
				t.Errorf("security.ima %x does not carry key id %s", hdr, want)
			}
			keys, err := LoadPublicKeys(cert)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(context.Background(), VerifyOptions{Paths: []string{f}, Keys: keys})
			if err != nil || rep.Verified != 1 {
				t.Errorf("verify: %+v %v", rep, err)
			}
		})
	}
}

// TestKeyIDKeepsTheSerialsLeadingZero: with an empty issuer the key id is the
// serial's own content octets, 00 ff ee dd (the INTEGER needs the zero to stay
// positive; big.Int.Bytes would give ff ee dd). relabel and keyload agree.
func TestKeyIDKeepsTheSerialsLeadingZero(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0xffeedd), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SubjectKeyId) != 0 || !bytes.Equal(c.RawIssuer, []byte{0x30, 0x00}) {
		t.Fatalf("test certificate has SKI %x, issuer %x: want none and an empty Name", c.SubjectKeyId, c.RawIssuer)
	}
	id, err := certKeyID(c)
	if err != nil {
		t.Fatal(err)
	}
	if id != 0x00ffeedd {
		t.Errorf("relabel: key id %08x, want 00ffeedd", id)
	}
	certs, err := keyload.ParseCertificates("leading-zero.der", der)
	if err != nil {
		t.Fatal(err)
	}
	if certs[0].KeyID != fmt.Sprintf("%08x", id) {
		t.Errorf("keyload: key id %s, relabel %08x", certs[0].KeyID, id)
	}
}
