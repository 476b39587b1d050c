package relabel

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// Signer makes version-2 signatures with one private key, under the key id of its
// certificate.
type Signer struct {
	key   crypto.Signer
	KeyID uint32
	// Cert is the certificate the key id came from (nil when the id was given).
	Cert *x509.Certificate
}

// ErrKeyMismatch says that a private key is not the one of its certificate.
var ErrKeyMismatch = errors.New("private key does not match the certificate")

// LoadSigner reads a PEM private key (PKCS#1, SEC 1 or PKCS#8; RSA or ECDSA, not
// encrypted) and its certificate (PEM or DER). The key id is the one the kernel finds
// the certificate's key by (certKeyID).
func LoadSigner(keyPath, certPath string) (*Signer, error) {
	key, err := LoadPrivateKey(keyPath)
	if err != nil {
		return nil, err
	}
	certs, err := readCertificates(certPath)
	if err != nil {
		return nil, err
	}
	s, err := NewSigner(key, certs[0])
	if err != nil {
		return nil, fmt.Errorf("key %s, certificate %s: %w", keyPath, certPath, err)
	}
	return s, nil
}

// NewSigner pairs a key with its certificate, checking that they match.
func NewSigner(key crypto.Signer, cert *x509.Certificate) (*Signer, error) {
	if err := checkKeyType(key); err != nil {
		return nil, err
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	id, err := certKeyID(cert)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, KeyID: id, Cert: cert}, nil
}

// NewSignerWithKeyID signs under an explicit key id, for keys without a certificate.
func NewSignerWithKeyID(key crypto.Signer, keyID uint32) (*Signer, error) {
	if err := checkKeyType(key); err != nil {
		return nil, err
	}
	return &Signer{key: key, KeyID: keyID}, nil
}

// Public returns the signer's public key.
func (s *Signer) Public() crypto.PublicKey { return s.key.Public() }

// Sign signs a digest made with algo: PKCS#1 v1.5 for RSA, DER-encoded ECDSA.
func (s *Signer) Sign(algo HashAlgo, digest []byte) ([]byte, error) {
	h, err := algo.CryptoHash()
	if err != nil {
		return nil, err
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("sign: %s digest of %d bytes (want %d)", algo, len(digest), h.Size())
	}
	var sig []byte
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(nil, k, h, digest)
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, digest)
	}
	if err != nil {
		return nil, fmt.Errorf("sign %s digest: %w", algo, err)
	}
	if len(sig) > 0xffff {
		return nil, fmt.Errorf("sign: %d-byte signature does not fit the 16-bit size field", len(sig))
	}
	return sig, nil
}

// SignLabel returns a whole label of type t (TypeSignature or TypePortableSig).
func (s *Signer) SignLabel(t LabelType, algo HashAlgo, digest []byte) ([]byte, error) {
	sig, err := s.Sign(algo, digest)
	if err != nil {
		return nil, err
	}
	return SignatureLabel(t, algo, s.KeyID, sig), nil
}

func checkKeyType(key crypto.Signer) error {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return nil
	case *ecdsa.PrivateKey:
		switch k.Curve.Params().Name {
		case "P-256", "P-384":
			return nil
		}
		return fmt.Errorf("ECDSA curve %s: %w (the kernel verifies P-256 and P-384)", k.Curve.Params().Name, ErrUnsupportedAlgo)
	}
	return fmt.Errorf("key type %T: %w (use RSA or ECDSA)", key, ErrUnsupportedAlgo)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// LoadPrivateKey reads an unencrypted PEM private key.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, fmt.Errorf("signing key %s: no PEM private key found", path)
		}
		if blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "" {
			return nil, fmt.Errorf("signing key %s: encrypted keys are not supported (decrypt it with openssl pkey)", path)
		}
		var k any
		switch blk.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(blk.Bytes)
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %s: %w", path, blk.Type, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("signing key %s: %T: %w", path, k, ErrUnsupportedAlgo)
		}
		if err := checkKeyType(s); err != nil {
			return nil, fmt.Errorf("signing key %s: %w", path, err)
		}
		return s, nil
	}
}

// readCertificates reads every certificate of a PEM file, or one DER certificate.
func readCertificates(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("certificate %s (DER): %w", path, err)
		}
		return []*x509.Certificate{c}, nil
	}
	var certs []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("certificate %s: no CERTIFICATE block", path)
	}
	return certs, nil
}
