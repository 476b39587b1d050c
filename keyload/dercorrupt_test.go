package keyload

import (
	"bytes"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"
)

// certParseFails wants a *ParseError from data, at step.
func certParseFails(t *testing.T, data []byte, step string) *ParseError {
	t.Helper()
	certs, err := ParseCertificates("bad.der", data)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %d certificates, error %v; want a *ParseError", len(certs), err)
	}
	if pe.Step != step {
		t.Errorf("step %q, want %q (%v)", pe.Step, step, err)
	}
	return pe
}

func TestParseTruncatedAtEveryOffset(t *testing.T) {
	for _, key := range []string{"rsa2048", "p256"} {
		der, _ := goCert(t, goCertSpec{key: key, ca: true, subject: pkix.Name{CommonName: "cut", Country: []string{"DE"}}})
		for n := 2; n < len(der); n++ {
			certParseFails(t, der[:n], "X.509")
		}
	}
}

// derLengthOffsets returns where the length octets of every element are,
// descending into constructed ones.
func derLengthOffsets(t *testing.T, b []byte, base int) []int {
	var offs []int
	for pos := 0; pos < len(b); {
		el, rest, err := derNext(b[pos:])
		if err != nil {
			t.Fatalf("walking the test certificate at %d: %v", base+pos, err)
		}
		hdr := len(el.full) - len(el.content)
		for i := 1; i < hdr; i++ {
			offs = append(offs, base+pos+i)
		}
		if el.tag&0x20 != 0 {
			offs = append(offs, derLengthOffsets(t, el.content, base+pos+hdr)...)
		}
		pos = len(b) - len(rest)
	}
	return offs
}

func TestParseFlippedLengthBytes(t *testing.T) {
	der, _ := goCert(t, goCertSpec{key: "rsa2048", ca: true, subject: pkix.Name{CommonName: "flip", Organization: []string{"o"}}})
	offs := derLengthOffsets(t, der, 0)
	if len(offs) < 40 {
		t.Fatalf("only %d length octets found", len(offs))
	}
	for _, off := range offs {
		for _, v := range []byte{der[off] + 1, der[off] - 1, der[off] ^ 0x80, 0x00, 0x80, 0x83, 0xff} {
			if v == der[off] {
				continue
			}
			bad := bytes.Clone(der)
			bad[off] = v
			if pe := certParseFails(t, bad, "X.509"); t.Failed() {
				t.Fatalf("length octet at %d set to 0x%02x: %v", off, v, pe)
			}
		}
	}
}

// TestParseErrorsNameThePart: a corrupt certificate's error says where, as
// it is shown at boot.
func TestParseErrorsNameThePart(t *testing.T) {
	good, _ := goCert(t, goCertSpec{key: "p256", ca: true, subject: pkix.Name{CommonName: "parts"}})
	// replaceLast returns good with the last old replaced by new.
	replaceLast := func(old, new []byte) []byte {
		i := bytes.LastIndex(good, old)
		if i < 0 {
			t.Fatalf("%x not in the test certificate", old)
		}
		return append(append(append([]byte{}, good[:i]...), new...), good[i+len(old):]...)
	}
	nullSKI, _ := goCert(t, goCertSpec{key: "p256", subject: pkix.Name{CommonName: "null SKI"},
		ski: []byte{1}}) // replaced below: Go writes a valid one
	nullSKI = bytes.Replace(nullSKI, []byte{0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x03, 0x04, 0x01, 0x01}, []byte{0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x03, 0x05, 0x00, 0x00}, 1)
	notAfter := bytes.Index(good[bytes.Index(good, []byte{0x17, 0x0d})+2:], []byte{0x17, 0x0d})
	if notAfter < 0 {
		t.Fatal("no second UTCTime in the test certificate")
	}

	for _, tc := range []struct {
		name string
		der  []byte
		want string
	}{
		{"trailing data", append(bytes.Clone(good), 0), "1 byte(s) after the certificate"},
		{"indefinite length", append([]byte{0x30, 0x80}, good[4:]...), "Certificate: indefinite length"},
		{"high tag number", append(append(bytes.Clone(good[:4]), 0x3f), good[5:]...), "TBSCertificate: tag 0x3f: high tag numbers"},
		{"5-byte length", append([]byte{0x30, 0x85}, good[2:]...), "Certificate: length of 5 bytes"},
		{"version 4", replaceLast([]byte{0xa0, 0x03, 0x02, 0x01, 0x02}, []byte{0xa0, 0x03, 0x02, 0x01, 0x03}), "TBSCertificate: version: 03 is not v1, v2 or v3"},
		{"bad subject string", replaceLast([]byte("\x13\x05parts"), []byte("\x13\x05pa@ts")), "TBSCertificate: subject: RDN 1: attribute 1: value: PrintableString holds '@'"},
		{"SKI not an OCTET STRING", nullSKI, "TBSCertificate: extensions: SubjectKeyIdentifier: KeyIdentifier: found tag 0x05, want OCTET STRING"},
		{"signature algorithms differ", replaceLast([]byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}), "signatureAlgorithm differs"},
		{"bad notAfter", func() []byte {
			b := bytes.Clone(good)
			i := bytes.Index(good, []byte{0x17, 0x0d}) + 2 + notAfter + 2
			copy(b[i+2:], "13") // month 13
			return b
		}(), "TBSCertificate: validity: notAfter: UTCTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pe := certParseFails(t, tc.der, "X.509")
			if !strings.Contains(pe.Error(), tc.want) || !strings.HasPrefix(pe.Error(), "certificate bad.der: X.509 parse failed: ") {
				t.Errorf("error %q, want it to say %q", pe.Error(), tc.want)
			}
		})
	}
}
