package keyload

import (
	"crypto/sha1"

	"github.com/imaboot/imaboot/internal/keyid"
)

// Where Certificate.KeyID comes from (Certificate.KeyIDSource).
const (
	keyIDFromSKI          = string(keyid.FromSKI)
	keyIDFromIssuerSerial = string(keyid.FromIssuerSerial)
)

// certKeyID returns the 4 bytes the kernel matches a signature's key id
// against, and where they come from: keyid.ForCertificate, the one rule the
// labeler signs by too, fed the raw fields this package's DER reader found.
func certKeyID(f certFields) ([]byte, string, error) {
	id, source, err := keyid.ForCertificate(keyid.Fields{Serial: f.serial, Issuer: f.issuerRaw, SKI: f.ski})
	if err != nil {
		return nil, "", err
	}
	return id[:], string(source), nil
}

// certKeyHashID is evmctl's default key id: the last 4 bytes of SHA-1 over
// the subjectPublicKey bits (also RFC 5280's SKI method 1, which is what
// openssl puts in the SKI by default).
func certKeyHashID(f certFields) []byte {
	sum := sha1.Sum(f.publicKey)
	return sum[len(sum)-4:]
}
