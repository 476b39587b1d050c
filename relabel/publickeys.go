package relabel

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Verification errors callers can test with errors.Is.
var (
	ErrUnknownKey   = errors.New("unknown key id")
	ErrBadSignature = errors.New("bad signature")
)

// PublicKeys is a set of verifying public keys by key id, taken from certificates: what
// the kernel's .ima and .evm keyrings hold, for checking labels in user space. (The
// kernel keyrings themselves are keyload.KernelKeyring.)
type PublicKeys struct {
	keys map[uint32][]crypto.PublicKey
}

// NewPublicKeys returns an empty set.
func NewPublicKeys() *PublicKeys { return &PublicKeys{keys: map[uint32][]crypto.PublicKey{}} }

// LoadPublicKeys reads certificates (PEM or DER) from files and from the regular files
// of directories (one level, as /etc/keys/ima).
func LoadPublicKeys(paths ...string) (*PublicKeys, error) {
	k := NewPublicKeys()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		files := []string{p}
		if fi.IsDir() {
			ents, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("certificates: %w", err)
			}
			files = files[:0]
			for _, e := range ents {
				if e.Type().IsRegular() {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
		}
		for _, f := range files {
			certs, err := readCertificates(f)
			if err != nil {
				return nil, err
			}
			for _, c := range certs {
				if err := k.AddCertificate(c); err != nil {
					return nil, fmt.Errorf("certificate %s: %w", f, err)
				}
			}
		}
	}
	return k, nil
}

// AddCertificate adds a certificate's key under the key id the kernel finds it by
// (certKeyID).
func (k *PublicKeys) AddCertificate(c *x509.Certificate) error {
	id, err := certKeyID(c)
	if err != nil {
		return err
	}
	k.AddKey(id, c.PublicKey)
	return nil
}

// AddKey adds a public key under an explicit key id.
func (k *PublicKeys) AddKey(id uint32, pub crypto.PublicKey) { k.keys[id] = append(k.keys[id], pub) }

// Len returns the number of keys.
func (k *PublicKeys) Len() int {
	n := 0
	for _, v := range k.keys {
		n += len(v)
	}
	return n
}

// VerifyDigest checks a signature label over a digest made with the label's algorithm.
// It returns ErrUnknownKey when no key has the label's key id, ErrBadSignature when
// none of them verifies it.
func (k *PublicKeys) VerifyDigest(l *Label, digest []byte) error {
	if !l.IsSignature() {
		return fmt.Errorf("%w: %s is not a signature", ErrMalformed, l.Type)
	}
	if l.Version != signatureVersion {
		return fmt.Errorf("%s version %d: %w", l.Type, l.Version, ErrUnsupportedAlgo)
	}
	h, err := l.Algo.CryptoHash()
	if err != nil {
		return err
	}
	pubs := k.keys[l.KeyID]
	if len(pubs) == 0 {
		return fmt.Errorf("%w %08x", ErrUnknownKey, l.KeyID)
	}
	for _, pub := range pubs {
		switch p := pub.(type) {
		case *rsa.PublicKey:
			if rsa.VerifyPKCS1v15(p, h, digest, l.Signature) == nil {
				return nil
			}
		case *ecdsa.PublicKey:
			if ecdsa.VerifyASN1(p, digest, l.Signature) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w (%s, key id %08x)", ErrBadSignature, l.Algo, l.KeyID)
}
