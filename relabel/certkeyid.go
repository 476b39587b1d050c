package relabel

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"github.com/imaboot/imaboot/internal/keyid"
)

// certKeyID is the key id the kernel finds a certificate's key by (see
// keyid.ForCertificate): the tail of its SubjectKeyIdentifier, or without one
// the tail of its raw serial and issuer, which crypto/x509 does not keep as
// octets (its SerialNumber is a big.Int that has lost any leading zero), so
// they are read again from the TBSCertificate's DER.
func certKeyID(c *x509.Certificate) (uint32, error) {
	var tbs struct {
		Version   int `asn1:"optional,explicit,default:0,tag:0"`
		Serial    asn1.RawValue
		Signature asn1.RawValue
		Issuer    asn1.RawValue
		// The remaining fields are not needed (encoding/asn1 allows them).
	}
	if _, err := asn1.Unmarshal(c.RawTBSCertificate, &tbs); err != nil {
		return 0, fmt.Errorf("certificate %q: read serial and issuer: %w", c.Subject, err)
	}
	id, _, err := keyid.ForCertificate(keyid.Fields{Serial: tbs.Serial.Bytes, Issuer: tbs.Issuer.Bytes, SKI: c.SubjectKeyId})
	if err != nil {
		return 0, fmt.Errorf("certificate %q: %w", c.Subject, err)
	}
	return id.Uint32(), nil
}
