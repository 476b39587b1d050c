package keyload

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"testing"
)

// FuzzParseCertificates: no input makes the parser panic or return
// anything but a *ParseError; and where crypto/x509 accepts a certificate
// too, both read the same fields (the reader may refuse more than x509
// does, never read differently).
func FuzzParseCertificates(f *testing.F) {
	var seeds [][]byte
	for _, s := range []goCertSpec{
		{key: "p256", ca: true, subject: pkix.Name{CommonName: "fuzz", Organization: []string{"a", "b"}, Country: []string{"DE"}}},
		{key: "ed25519", ski: []byte{1, 2, 3, 4, 5}, subject: pkix.Name{CommonName: "#x, y "}},
		{key: "rsa2048", subject: pkix.Name{SerialNumber: "1", ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidEmail, Value: "e@x"}}}},
		{key: "p384", rawSubject: rawName(f,
			[]rawAttr{{oidCN, asn1.TagBMPString, bmp("bmp")}, {oidO, asn1.TagT61String, "t\xe961"}},
			[]rawAttr{{oidUID, asn1.TagIA5String, "uid"}})},
	} {
		der, _ := goCert(f, s)
		seeds = append(seeds, der)
	}
	var bundle []byte
	for _, der := range seeds {
		f.Add(der)
		f.Add(der[:len(der)/2])
		bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	f.Add(bundle)
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificates("fuzz", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want a *ParseError", err, err)
			}
			return
		}
		if !certLooksDER(data) {
			return
		}
		want, err := x509Certificate(data)
		if err != nil {
			return
		}
		if want.Algorithm == "0" { // x509's "unknown"; the reader gives the OID
			want.Algorithm = certs[0].Algorithm
		}
		certEqual(t, certs[0], want)
	})
}
