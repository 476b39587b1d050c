package keyload

import (
	"crypto/sha1"
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
func certKeyID(f certFields) ([]byte, string, error) {
	if len(f.ski) >= 4 {
		return f.ski[len(f.ski)-4:], keyIDFromSKI, nil
	}
	id := append(append([]byte{}, f.serial...), f.issuerRaw...)
	if len(id) < 4 {
		return nil, "", fmt.Errorf("serial and issuer are %d bytes, too short for a key id", len(id))
	}
	return id[len(id)-4:], keyIDFromIssuerSerial, nil
}

// certKeyHashID is evmctl's default key id: the last 4 bytes of SHA-1 over
// the subjectPublicKey bits (also RFC 5280's SKI method 1, which is what
// openssl puts in the SKI by default).
func certKeyHashID(f certFields) []byte {
	sum := sha1.Sum(f.publicKey)
	return sum[len(sum)-4:]
}
