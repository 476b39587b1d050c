package keyload

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

const (
	keyIDFromSKI          = "subjectKeyIdentifier"
	keyIDFromIssuerSerial = "issuer+serial"
)

// certKeyID returns the 4 bytes the kernel matches a signature's key id
// against, and where they come from.
//
// IMA and EVM look a key up with keyring_search("id:%08x"), a partial match
// on the tail of the key's first two ids (crypto/asymmetric_keys/
// asymmetric_type.c). x509_key_preparse sets id[0] = raw serial ‖ raw issuer
// (x509_cert_parser.c: asymmetric_key_generate_id(raw_serial, raw_issuer))
// and id[1] = the SubjectKeyIdentifier's octets. A 4-byte match against the
// SKI is what signers intend; without an SKI only id[0] can match, so its
// last 4 bytes are the id.
func certKeyID(c *x509.Certificate) ([]byte, string, error) {
	if len(c.SubjectKeyId) >= 4 {
		return c.SubjectKeyId[len(c.SubjectKeyId)-4:], keyIDFromSKI, nil
	}
	serial, issuer, err := certRawSerialIssuer(c.RawTBSCertificate)
	if err != nil {
		return nil, "", err
	}
	id := append(append([]byte{}, serial...), issuer...)
	if len(id) < 4 {
		return nil, "", fmt.Errorf("serial and issuer are %d bytes, too short for a key id", len(id))
	}
	return id[len(id)-4:], keyIDFromIssuerSerial, nil
}

// certRawSerialIssuer returns the content octets of the serial number and
// of the issuer Name, as the kernel's ASN.1 decoder hands them over.
func certRawSerialIssuer(tbs []byte) (serial, issuer []byte, err error) {
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(tbs, &seq); err != nil {
		return nil, nil, fmt.Errorf("TBSCertificate: %w", err)
	}
	rest := seq.Bytes
	var fields []asn1.RawValue
	for len(rest) > 0 && len(fields) < 4 {
		var f asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			return nil, nil, fmt.Errorf("TBSCertificate field %d: %w", len(fields)+1, err)
		}
		fields = append(fields, f)
	}
	// version [0] EXPLICIT is optional; serial, signature, issuer follow.
	if len(fields) > 0 && fields[0].Class == asn1.ClassContextSpecific && fields[0].Tag == 0 {
		fields = fields[1:]
	}
	if len(fields) < 3 || fields[0].Tag != asn1.TagInteger || fields[2].Tag != asn1.TagSequence {
		return nil, nil, fmt.Errorf("TBSCertificate: serial or issuer missing")
	}
	return fields[0].Bytes, fields[2].Bytes, nil
}

// certKeyHashID is evmctl's default key id: the last 4 bytes of SHA-1 over
// the subjectPublicKey bits (also RFC 5280's SKI method 1, which is what
// openssl puts in the SKI by default).
func certKeyHashID(c *x509.Certificate) ([]byte, error) {
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, fmt.Errorf("SubjectPublicKeyInfo: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[len(sum)-4:], nil
}
