package relabel

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// Names of the extended attributes this package reads and writes.
const (
	XattrIMA = "security.ima"
	XattrEVM = "security.evm"
)

// LabelType is the first byte of a security.ima / security.evm value
// (enum evm_ima_xattr_type in security/integrity/integrity.h).
type LabelType uint8

// Label types the kernel knows.
const (
	TypeDigest       LabelType = 0x01 // IMA_XATTR_DIGEST: sha1 (or md5) digest, no algorithm byte
	TypeHMAC         LabelType = 0x02 // EVM_XATTR_HMAC: kernel-made HMAC-SHA1
	TypeSignature    LabelType = 0x03 // EVM_IMA_XATTR_DIGSIG: signature header v2
	TypeDigestNG     LabelType = 0x04 // IMA_XATTR_DIGEST_NG: algorithm byte + digest
	TypePortableSig  LabelType = 0x05 // EVM_XATTR_PORTABLE_DIGSIG
	TypeVeritySig    LabelType = 0x06 // IMA_VERITY_DIGSIG: signature header v3 over an fs-verity digest
	sigHeaderSize              = 9
	signatureVersion           = 2
)

func (t LabelType) String() string {
	switch t {
	case TypeDigest:
		return "digest"
	case TypeHMAC:
		return "hmac"
	case TypeSignature:
		return "signature"
	case TypeDigestNG:
		return "digest-ng"
	case TypePortableSig:
		return "portable-signature"
	case TypeVeritySig:
		return "verity-signature"
	}
	return fmt.Sprintf("type#0x%02x", uint8(t))
}

// Errors callers can test with errors.Is.
var (
	ErrMalformed       = errors.New("malformed label")
	ErrUnsupportedAlgo = errors.New("unsupported algorithm")
)

// Label is a decoded security.ima or security.evm value.
type Label struct {
	Type LabelType
	Algo HashAlgo // digest or signature hash algorithm
	// Digest is set for TypeDigest, TypeDigestNG and TypeHMAC.
	Digest []byte
	// Signature fields, for TypeSignature, TypePortableSig and TypeVeritySig.
	Version   uint8
	KeyID     uint32
	Signature []byte
}

// IsSignature reports whether the label carries a signature header.
func (l *Label) IsSignature() bool {
	return l.Type == TypeSignature || l.Type == TypePortableSig || l.Type == TypeVeritySig
}

// String describes the label for diagnostics, e.g. "signature v2 sha256 keyid 11121314 (256 bytes)".
func (l *Label) String() string {
	if l.IsSignature() {
		return fmt.Sprintf("%s v%d %s keyid %08x (%d-byte signature)", l.Type, l.Version, l.Algo, l.KeyID, len(l.Signature))
	}
	return fmt.Sprintf("%s %s %s", l.Type, l.Algo, hex.EncodeToString(l.Digest))
}

// HashLabel returns the security.ima value the kernel itself writes for a digest:
// type 0x01 for sha1, type 0x04 with the algorithm byte otherwise.
func HashLabel(algo HashAlgo, digest []byte) []byte {
	if algo == AlgoSHA1 {
		return append([]byte{byte(TypeDigest)}, digest...)
	}
	return append([]byte{byte(TypeDigestNG), byte(algo)}, digest...)
}

// SignatureLabel encodes a version-2 signature header and signature with the given type
// (TypeSignature for security.ima, TypePortableSig for security.evm).
func SignatureLabel(t LabelType, algo HashAlgo, keyID uint32, sig []byte) []byte {
	b := make([]byte, sigHeaderSize, sigHeaderSize+len(sig))
	b[0] = byte(t)
	b[1] = signatureVersion
	b[2] = byte(algo)
	binary.BigEndian.PutUint32(b[3:7], keyID)
	binary.BigEndian.PutUint16(b[7:9], uint16(len(sig)))
	return append(b, sig...)
}

// ParseLabel decodes a security.ima or security.evm value, checking lengths the way the
// kernel does.
func ParseLabel(b []byte) (*Label, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	l := &Label{Type: LabelType(b[0])}
	switch l.Type {
	case TypeDigest:
		switch len(b) - 1 {
		case 20:
			l.Algo = AlgoSHA1
		case 16:
			l.Algo = AlgoMD5
		default:
			return nil, fmt.Errorf("%w: %s of %d bytes (want 20 for sha1 or 16 for md5)", ErrMalformed, l.Type, len(b)-1)
		}
		l.Digest = b[1:]
	case TypeHMAC:
		if len(b)-1 != 20 {
			return nil, fmt.Errorf("%w: hmac of %d bytes (want 20)", ErrMalformed, len(b)-1)
		}
		l.Algo, l.Digest = AlgoSHA1, b[1:]
	case TypeDigestNG:
		if len(b) < 2 {
			return nil, fmt.Errorf("%w: %s without algorithm byte", ErrMalformed, l.Type)
		}
		l.Algo, l.Digest = HashAlgo(b[1]), b[2:]
		if l.Algo.Size() == 0 {
			return nil, fmt.Errorf("%w: %s with unknown algorithm id %d", ErrMalformed, l.Type, b[1])
		}
		if len(l.Digest) != l.Algo.Size() {
			return nil, fmt.Errorf("%w: %s %s digest of %d bytes (want %d)", ErrMalformed, l.Type, l.Algo, len(l.Digest), l.Algo.Size())
		}
	case TypeSignature, TypePortableSig, TypeVeritySig:
		if len(b) <= sigHeaderSize {
			return nil, fmt.Errorf("%w: %s of %d bytes is no longer than its 9-byte header", ErrMalformed, l.Type, len(b))
		}
		l.Version, l.Algo = b[1], HashAlgo(b[2])
		l.KeyID = binary.BigEndian.Uint32(b[3:7])
		size := int(binary.BigEndian.Uint16(b[7:9]))
		l.Signature = b[sigHeaderSize:]
		if size != len(l.Signature) {
			return nil, fmt.Errorf("%w: %s header says %d signature bytes, %d present", ErrMalformed, l.Type, size, len(l.Signature))
		}
		if l.Version != 2 && l.Version != 3 {
			return nil, fmt.Errorf("%w: %s version %d (the kernel knows 2 and 3)", ErrMalformed, l.Type, l.Version)
		}
		if l.Algo.Size() == 0 {
			return nil, fmt.Errorf("%w: %s with unknown algorithm id %d", ErrMalformed, l.Type, b[2])
		}
	default:
		return nil, fmt.Errorf("%w: unknown type 0x%02x", ErrMalformed, b[0])
	}
	return l, nil
}
