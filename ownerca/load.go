package ownerca

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/relabel"
)

// LoadCertificate reads the one certificate of a PEM or DER file (keyload's
// reader: errors name the file and the parse step).
func LoadCertificate(path string) (*x509.Certificate, error) {
	certs, err := keyload.ReadCertificateFile(path)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("certificate %s: %d certificates, want one", path, len(certs))
	}
	c, err := x509.ParseCertificate(certs[0].DER)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", path, err)
	}
	return c, nil
}

// LoadCA reads the CA's certificate and private key (PEM, not encrypted)
// and checks they belong together and make a CA.
func LoadCA(certPath, keyPath string) (*KeyPair, error) {
	cert, err := LoadCertificate(certPath)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("certificate %s is not a CA (no basicConstraints CA:TRUE)", certPath)
	}
	key, err := relabel.LoadPrivateKey(keyPath)
	if err != nil {
		return nil, err
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("key %s, certificate %s: %w", keyPath, certPath, relabel.ErrKeyMismatch)
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}
