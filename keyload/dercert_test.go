package keyload

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
	"time"
)

// certMatchesX509 parses der with keyload and with the crypto/x509 based
// reference, and wants every field the same.
func certMatchesX509(t *testing.T, der []byte) Certificate {
	t.Helper()
	want, err := x509Certificate(der)
	if err != nil {
		t.Fatalf("crypto/x509: %v", err)
	}
	certs, err := ParseCertificates("t.der", der)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 {
		t.Fatalf("%d certificates, want 1", len(certs))
	}
	certEqual(t, certs[0], want)
	return certs[0]
}

// certEqual compares what the DER gives; File and Index are not from it.
func certEqual(t *testing.T, got, want Certificate) {
	t.Helper()
	if string(got.DER) != string(want.DER) {
		t.Errorf("DER differs (%d bytes, want %d)", len(got.DER), len(want.DER))
	}
	if !got.NotAfter.Equal(want.NotAfter) || got.NotAfter.Location() != want.NotAfter.Location() {
		t.Errorf("NotAfter %v, want %v", got.NotAfter, want.NotAfter)
	}
	for _, f := range []struct{ name, got, want string }{
		{"Subject", got.Subject, want.Subject},
		{"Issuer", got.Issuer, want.Issuer},
		{"Algorithm", got.Algorithm, want.Algorithm},
		{"KeyID", got.KeyID, want.KeyID},
		{"KeyIDSource", got.KeyIDSource, want.KeyIDSource},
		{"KeyHashID", got.KeyHashID, want.KeyHashID},
	} {
		if f.got != f.want {
			t.Errorf("%s %q, want %q", f.name, f.got, f.want)
		}
	}
}

func TestParseMatchesX509GoKeys(t *testing.T) {
	for _, key := range []string{"rsa2048", "p256", "p384", "ed25519"} {
		for _, tc := range []struct {
			name   string
			ca     bool
			ski    []byte
			source string
		}{
			{"no SKI", false, nil, keyIDFromIssuerSerial},
			{"Go's SKI", true, nil, keyIDFromSKI},
			{"custom SKI", false, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 0xc0, 0xff, 0xee}, keyIDFromSKI},
			{"SKI too short for an id", false, []byte{0xab, 0xcd}, keyIDFromIssuerSerial},
		} {
			t.Run(key+"/"+tc.name, func(t *testing.T) {
				der, _ := goCert(t, goCertSpec{key: key, ca: tc.ca, ski: tc.ski,
					subject: pkix.Name{CommonName: "go " + key, Organization: []string{"imaboot"}}})
				c := certMatchesX509(t, der)
				if c.KeyIDSource != tc.source {
					t.Errorf("KeyIDSource %q, want %q", c.KeyIDSource, tc.source)
				}
			})
		}
	}
}

func TestParseMatchesX509Names(t *testing.T) {
	printable, utf8s, ia5, t61, numeric := asn1.TagPrintableString, asn1.TagUTF8String, asn1.TagIA5String, asn1.TagT61String, asn1.TagNumericString
	long := ""
	for len(long) < 300 {
		long += "a long value, "
	}
	for _, tc := range []struct {
		name string
		n    pkix.Name
		raw  func(t *testing.T) []byte
	}{
		{name: "every type x509 names, special characters", n: pkix.Name{
			Country: []string{"DE"}, Province: []string{"Bayern"}, Locality: []string{"München"},
			StreetAddress: []string{"Hauptstr. 1; Hof"}, PostalCode: []string{"80331"},
			Organization: []string{"Acme, Inc.", "Other <org>"}, OrganizationalUnit: []string{"a+b", `back\slash`, `"quoted"`},
			CommonName: "#lead and trail ", SerialNumber: " 42",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidEmail, Value: "x@y.example"}, {Type: oidTitle, Value: "Dr"}},
		}},
		{name: "UTF-8", n: pkix.Name{CommonName: "Grüße 日本 🚀", Organization: []string{"Müller & Söhne"}}},
		{name: "multi-valued RDN and repeated types", raw: func(t *testing.T) []byte {
			return rawName(t,
				[]rawAttr{{oidC, printable, "FR"}},
				[]rawAttr{{oidCN, utf8s, "first"}, {oidO, utf8s, "org one"}},
				[]rawAttr{{oidOU, utf8s, "ou1"}},
				[]rawAttr{{oidUID, utf8s, "uid,1"}, {oidOU, printable, "ou2"}},
				[]rawAttr{{oidCN, utf8s, "last CN wins"}},
				[]rawAttr{{oidEmail, ia5, "root@example.org"}},
			)
		}},
		{name: "string types", raw: func(t *testing.T) []byte {
			return rawName(t,
				[]rawAttr{{oidCN, asn1.TagBMPString, bmp("bmp Ω ü") + "\x00\x00"}},
				[]rawAttr{{oidO, t61, "caf\xe9"}},
				[]rawAttr{{oidOU, asn1.TagBMPString, bmp("€ unit")}},
				[]rawAttr{{oidSerial, numeric, "0123 456"}},
				[]rawAttr{{oidL, printable, "*.wild & co"}},
				[]rawAttr{{oidTitle, asn1.TagBMPString, bmp("title")}},
				[]rawAttr{{oidLargeID, t61, "\xfc"}},
				[]rawAttr{{oidTitle, printable, "*"}},
				[]rawAttr{{oidTitle, utf8s, ""}},
				[]rawAttr{{oidTitle, utf8s, long}},
			)
		}},
		{name: "empty CN and SERIALNUMBER are dropped", raw: func(t *testing.T) []byte {
			return rawName(t,
				[]rawAttr{{oidCN, utf8s, "dropped"}},
				[]rawAttr{{oidSerial, printable, "dropped"}},
				[]rawAttr{{oidC, printable, ""}},
				[]rawAttr{{oidCN, utf8s, ""}},
				[]rawAttr{{oidSerial, printable, ""}},
				[]rawAttr{{oidStreet, utf8s, " "}},
				[]rawAttr{{oidPostal, utf8s, "#"}},
				[]rawAttr{{oidST, utf8s, "  two  "}},
			)
		}},
		{name: "empty name", raw: func(t *testing.T) []byte { return rawName(t) }},
		{name: "empty RDN", raw: func(t *testing.T) []byte { return rawName(t, []rawAttr{}, []rawAttr{{oidCN, utf8s, "x"}}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := goCertSpec{key: "p256", subject: tc.n}
			if tc.raw != nil {
				spec.rawSubject = tc.raw(t)
			}
			_, ca := goCert(t, spec)
			// The name as issuer too: a certificate the first one signed.
			der, _ := goCert(t, goCertSpec{key: "ed25519", subject: pkix.Name{CommonName: "leaf"}, parent: ca})
			c := certMatchesX509(t, der)
			t.Logf("issuer %s", c.Issuer)
			certMatchesX509(t, ca.cert.Raw)
		})
	}
}

func TestParseNotAfterUTCTimeAndGeneralizedTime(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), // last UTCTime year
		time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),      // first GeneralizedTime year
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), // RFC 5280's "no expiry"
	} {
		der, _ := goCert(t, goCertSpec{key: "p256", notAfter: at})
		c := certMatchesX509(t, der)
		if !c.NotAfter.Equal(at) {
			t.Errorf("NotAfter %v, want %v", c.NotAfter, at)
		}
	}
}

func TestParseMatchesX509OpenSSL(t *testing.T) {
	dir := t.TempDir()
	subj := `/C=DE/ST=Bayern/L=München/O=Acme\, Inc./OU=dev/OU=ops/CN=imaboot "ünïcødé" <test>; #1 /emailAddress=keys@example.org`
	var bundle []byte
	var want []Certificate
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"rsa", []string{"-newkey", "rsa:2048"}},
		{"p256 no SKI", []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-addext", "subjectKeyIdentifier=none", "-addext", "authorityKeyIdentifier=none"}},
		{"p384 custom SKI", []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-addext", "subjectKeyIdentifier=00112233445566778899aabbccddeeff01020304"}},
		{"ed25519 multi-valued RDN", []string{"-newkey", "ed25519", "-multivalue-rdn", "-subj", "/CN=a+O=b/OU=x/OU=y+UID=z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pem, key := dir+"/"+tc.name+".pem", dir+"/"+tc.name+".key"
			args := append([]string{"req", "-x509", "-nodes", "-days", "2", "-utf8", "-subj", subj, "-keyout", key, "-out", pem}, tc.args...)
			certRun(t, "openssl", args...)
			der := dir + "/" + tc.name + ".der"
			certToDER(t, pem, der)
			c := certMatchesX509(t, certReadFile(t, der))
			t.Logf("%s: %s", tc.name, c.Subject)
			bundle = append(bundle, certReadFile(t, pem)...)
			want = append(want, c)
		})
	}
	t.Run("v1 without extensions", func(t *testing.T) {
		key, csr, pem := dir+"/v1.key", dir+"/v1.csr", dir+"/v1.pem"
		certRun(t, "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-utf8", "-subj", subj, "-keyout", key, "-out", csr)
		certRun(t, "openssl", "x509", "-req", "-in", csr, "-signkey", key, "-days", "2", "-out", pem)
		der := dir + "/v1.der"
		certToDER(t, pem, der)
		c := certMatchesX509(t, certReadFile(t, der))
		if c.KeyIDSource != keyIDFromIssuerSerial {
			t.Errorf("v1 certificate: KeyIDSource %q", c.KeyIDSource)
		}
		bundle = append(bundle, certReadFile(t, pem)...)
		want = append(want, c)
	})
	t.Run("PEM bundle", func(t *testing.T) {
		certs, err := ParseCertificates("bundle.pem", bundle)
		if err != nil {
			t.Fatal(err)
		}
		if len(certs) != len(want) {
			t.Fatalf("%d certificates, want %d", len(certs), len(want))
		}
		for i := range certs {
			certEqual(t, certs[i], want[i])
		}
	})
}

// derReencodeLong writes every element of b again with a two-byte length,
// the way a sloppy encoder might: valid BER, not DER.
func derReencodeLong(t *testing.T, b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		el, rest, err := derNext(b)
		if err != nil {
			t.Fatal(err)
		}
		content := el.content
		if el.tag&0x20 != 0 {
			content = derReencodeLong(t, content)
		}
		out = append(out, el.tag, 0x82, byte(len(content)>>8), byte(len(content)))
		out = append(out, content...)
		b = rest
	}
	return out
}

func TestParseTakesLengthsThatAreNotMinimal(t *testing.T) {
	der, _ := goCert(t, goCertSpec{key: "p384", ca: true, subject: pkix.Name{CommonName: "long lengths", Country: []string{"DE"}}})
	want := certMatchesX509(t, der)
	long := derReencodeLong(t, der)
	certs, err := ParseCertificates("long.der", long)
	if err != nil {
		t.Fatal(err)
	}
	got := certs[0]
	want.DER = long
	certEqual(t, got, want)
}
