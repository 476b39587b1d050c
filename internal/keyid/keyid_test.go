package keyid

import (
	"strings"
	"testing"
)

func TestForCertificate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      Fields
		id     string
		source Source
	}{
		{"SKI tail", Fields{Serial: []byte{1}, Issuer: []byte("issuer"), SKI: []byte{9, 8, 7, 6, 5, 4, 3, 2, 1}}, "04030201", FromSKI},
		{"SKI of exactly 4", Fields{Serial: []byte{1}, Issuer: []byte("issuer"), SKI: []byte{0xc0, 0xff, 0xee, 0x42}}, "c0ffee42", FromSKI},
		{"no SKI: tail of the issuer", Fields{Serial: []byte{1, 2}, Issuer: []byte("...here")}, "68657265", FromIssuerSerial},
		{"SKI too short: issuer", Fields{Serial: []byte{1, 2}, Issuer: []byte("...here"), SKI: []byte{0xab, 0xcd}}, "68657265", FromIssuerSerial},
		// The serial's leading zero is part of the id: it shows when the
		// issuer is shorter than 4 bytes.
		{"serial with its leading zero", Fields{Serial: []byte{0x00, 0xff, 0xee, 0xdd}}, "00ffeedd", FromIssuerSerial},
		{"serial then issuer", Fields{Serial: []byte{0x00, 0x80, 0x01}, Issuer: []byte{0x31, 0x00}}, "80013100", FromIssuerSerial},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, source, err := ForCertificate(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if id.String() != tc.id || source != tc.source {
				t.Errorf("got %s from %s, want %s from %s", id, source, tc.id, tc.source)
			}
		})
	}
}

func TestForCertificateTooShort(t *testing.T) {
	_, _, err := ForCertificate(Fields{Serial: []byte{1}, Issuer: []byte{2, 3}})
	if err == nil || !strings.Contains(err.Error(), "3 bytes") {
		t.Errorf("3 bytes of serial and issuer: err %v", err)
	}
}

func TestUint32IsBigEndian(t *testing.T) {
	if got := (ID{0xde, 0xad, 0xbe, 0xef}).Uint32(); got != 0xdeadbeef {
		t.Errorf("%#x", got)
	}
}
