package keyload

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"
)

// goCertSpec describes a test certificate made with crypto/x509.
type goCertSpec struct {
	key        string // "rsa2048", "p256", "p384" or "ed25519"
	subject    pkix.Name
	rawSubject []byte // used instead of subject when set
	ski        []byte // SubjectKeyIdentifier; Go adds one itself only for a CA
	ca         bool
	notAfter   time.Time // zero: a year from now
	serial     int64     // zero: 0x1234567
	parent     *goIssuer // nil: self-signed
}

// goIssuer signs other test certificates.
type goIssuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var goKeys = struct {
	sync.Mutex
	m map[string]crypto.Signer
}{m: map[string]crypto.Signer{}}

// goKey returns one key per type, made once: RSA keys take a while.
func goKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	goKeys.Lock()
	defer goKeys.Unlock()
	if k, ok := goKeys.m[kind]; ok {
		return k
	}
	var k crypto.Signer
	var err error
	switch kind {
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("bad key type %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	goKeys.m[kind] = k
	return k
}

// goCert makes a DER certificate as s says, and the issuer it can be.
func goCert(t testing.TB, s goCertSpec) ([]byte, *goIssuer) {
	t.Helper()
	key := goKey(t, s.key)
	serial := s.serial
	if serial == 0 {
		serial = 0x1234567
	}
	notAfter := s.notAfter
	if notAfter.IsZero() {
		notAfter = time.Now().Add(365 * 24 * time.Hour).Truncate(time.Second)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               s.subject,
		RawSubject:            s.rawSubject,
		NotBefore:             time.Now().Add(-time.Hour).Truncate(time.Second),
		NotAfter:              notAfter,
		SubjectKeyId:          s.ski,
		IsCA:                  s.ca,
		BasicConstraintsValid: s.ca,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	parent, signer := tmpl, key
	if s.parent != nil {
		parent, signer = s.parent.cert, s.parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return der, &goIssuer{cert: cert, key: key}
}

// rawAttr is one attribute of a hand-made Name: any string type, any bytes.
type rawAttr struct {
	oid   asn1.ObjectIdentifier
	tag   int // asn1.TagUTF8String, TagBMPString, ...
	value string
}

// rawName encodes a Name RDN by RDN, each a SET of the given attributes,
// in the order given (multi-valued RDNs included).
func rawName(t testing.TB, rdns ...[]rawAttr) []byte {
	t.Helper()
	var seq []byte
	for _, rdn := range rdns {
		var set []byte
		for _, a := range rdn {
			b, err := asn1.Marshal(struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue
			}{a.oid, asn1.RawValue{Tag: a.tag, Bytes: []byte(a.value)}})
			if err != nil {
				t.Fatal(err)
			}
			set = append(set, b...)
		}
		b, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: set})
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, b...)
	}
	b, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: seq})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bmp encodes s as UCS-2, big-endian.
func bmp(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return string(b)
}

var (
	oidCN      = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSerial  = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidC       = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidL       = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidST      = asn1.ObjectIdentifier{2, 5, 4, 8}
	oidStreet  = asn1.ObjectIdentifier{2, 5, 4, 9}
	oidO       = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU      = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidPostal  = asn1.ObjectIdentifier{2, 5, 4, 17}
	oidTitle   = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidEmail   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidUID     = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidLargeID = asn1.ObjectIdentifier{2, 999, 2147483647}
)

func certReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
