// Package keyid derives the key id by which the kernel's IMA and EVM find the
// certificate that verifies a signature: the 4 bytes after the hash algorithm
// in a version-2 signature header (security.ima type 0x03, security.evm types
// 0x03 and 0x05). The boot agent (keyload) reports it for each certificate it
// loads and the labeler (relabel) signs and verifies with it, so both ask this
// one function; each reads the certificate's fields with its own parser.
package keyid

import (
	"fmt"
)

// Source says which of the kernel's ids a key id is the tail of.
type Source string

const (
	FromSKI          Source = "subjectKeyIdentifier"
	FromIssuerSerial Source = "issuer+serial"
)

// Fields are the parts of an X.509 certificate the kernel builds its ids from,
// exactly as the DER holds them.
type Fields struct {
	// Serial is the serialNumber INTEGER's content octets, a leading 0x00
	// included (not big.Int.Bytes, which drops it).
	Serial []byte
	// Issuer is the issuer Name SEQUENCE's content octets, without its tag and
	// length: what the kernel's ASN.1 decoder hands x509_note_issuer.
	Issuer []byte
	// SKI is the SubjectKeyIdentifier's key identifier octets, nil when the
	// certificate has none.
	SKI []byte
}

// ID is a key id as it appears in a signature header.
type ID [4]byte

// Uint32 is the id as a big-endian number, as signature headers hold it.
func (id ID) Uint32() uint32 {
	return uint32(id[0])<<24 | uint32(id[1])<<16 | uint32(id[2])<<8 | uint32(id[3])
}

// String is the id in the kernel's "id:%08x" form, without the prefix.
func (id ID) String() string { return fmt.Sprintf("%08x", id[:]) }

// ForCertificate returns the key id the kernel will find a certificate by, and
// which of its ids that is.
//
// IMA and EVM look a key up with keyring_search("id:%08x"), a partial match on
// the tail of the key's first two ids (crypto/asymmetric_keys/
// asymmetric_type.c). x509_key_preparse sets id[0] = raw serial ‖ raw issuer
// (x509_cert_parser.c: asymmetric_key_generate_id(raw_serial, raw_issuer))
// and id[1] = the SubjectKeyIdentifier's octets. A 4-byte match against the
// SKI is what signers intend; without an SKI (or with one shorter than 4
// bytes, which never matches) only id[0] can match, so its last 4 bytes are
// the id.
func ForCertificate(f Fields) (ID, Source, error) {
	var id ID
	if len(f.SKI) >= len(id) {
		copy(id[:], f.SKI[len(f.SKI)-len(id):])
		return id, FromSKI, nil
	}
	raw := append(append([]byte{}, f.Serial...), f.Issuer...)
	if len(raw) < len(id) {
		return ID{}, "", fmt.Errorf("no SubjectKeyIdentifier, and serial and issuer are %d bytes, too short for a key id", len(raw))
	}
	copy(id[:], raw[len(raw)-len(id):])
	return id, FromIssuerSerial, nil
}
