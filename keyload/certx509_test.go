package keyload

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
)

// x509Certificate is what keyload made of a certificate before it had its
// own DER reader (crypto/x509 plus the kernel's key id rules): the
// reference the new reader is held to.
func x509Certificate(der []byte) (Certificate, error) {
	x, err := x509.ParseCertificate(der)
	if err != nil {
		return Certificate{}, err
	}
	id, source, err := x509KeyID(x)
	if err != nil {
		return Certificate{}, err
	}
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(x.RawSubjectPublicKeyInfo, &spki); err != nil {
		return Certificate{}, err
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return Certificate{
		DER:         x.Raw,
		Subject:     x.Subject.String(),
		Issuer:      x.Issuer.String(),
		NotAfter:    x.NotAfter,
		Algorithm:   x.PublicKeyAlgorithm.String(),
		KeyID:       hex.EncodeToString(id),
		KeyIDSource: source,
		KeyHashID:   hex.EncodeToString(sum[len(sum)-4:]),
	}, nil
}

func x509KeyID(c *x509.Certificate) ([]byte, string, error) {
	if len(c.SubjectKeyId) >= 4 {
		return c.SubjectKeyId[len(c.SubjectKeyId)-4:], keyIDFromSKI, nil
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(c.RawTBSCertificate, &seq); err != nil {
		return nil, "", err
	}
	rest := seq.Bytes
	var fields []asn1.RawValue
	for len(rest) > 0 && len(fields) < 4 {
		var f asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			return nil, "", err
		}
		fields = append(fields, f)
	}
	if len(fields) > 0 && fields[0].Class == asn1.ClassContextSpecific && fields[0].Tag == 0 {
		fields = fields[1:]
	}
	if len(fields) < 3 {
		return nil, "", fmt.Errorf("serial or issuer missing")
	}
	id := append(append([]byte{}, fields[0].Bytes...), fields[2].Bytes...)
	if len(id) < 4 {
		return nil, "", fmt.Errorf("too short")
	}
	return id[len(id)-4:], keyIDFromIssuerSerial, nil
}
