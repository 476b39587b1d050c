package ownerca

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// Options describe a certificate to make.
type Options struct {
	Subject string // its common name
	Bits    int    // RSA modulus; 0: 3072 for a CA, 2048 for a release certificate
	Days    int    // validity; 0: 20 years for a CA, 5 for a release certificate
}

// KeyPair is a certificate and its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// KeyID is the certificate's SubjectKeyIdentifier in hex: what the kernel
// shows after the subject in /proc/keys, and what TRUST_CA names.
func KeyID(c *x509.Certificate) string { return hex.EncodeToString(c.SubjectKeyId) }

// The kernel ignores validity dates on keys and certificates (as do shim
// and MokManager); they are set for the tools that read them.
const (
	caDays      = 20 * 365
	releaseDays = 5 * 365
)

// NewCA makes the owner's CA: RSA (Debian's 6.1 kernels verify no ECDSA),
// self-signed, may sign certificates (basicConstraints CA, keyUsage
// keyCertSign) and nothing else, its SubjectKeyIdentifier the SHA-1 of its
// public key, and an AuthorityKeyIdentifier naming itself so the kernel can
// tell it is self-signed.
func NewCA(o Options) (*KeyPair, error) {
	if o.Bits == 0 {
		o.Bits = 3072
	}
	if o.Days == 0 {
		o.Days = caDays
	}
	tmpl, key, err := template(o)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.MaxPathLenZero = true // it signs release certificates, not other CAs
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	tmpl.AuthorityKeyId = tmpl.SubjectKeyId
	return create(tmpl, tmpl, key, key)
}

// Issue makes a release certificate signed by ca: RSA, not a CA, keyUsage
// digitalSignature, SubjectKeyIdentifier the SHA-1 of its public key (so
// evmctl's default key id and the kernel's agree) and an
// AuthorityKeyIdentifier naming the CA (the kernel finds the signer by it:
// without it, add_key gives ENOKEY).
func Issue(ca *KeyPair, o Options) (*KeyPair, error) {
	if o.Bits == 0 {
		o.Bits = 2048
	}
	if o.Days == 0 {
		o.Days = releaseDays
	}
	if !ca.Cert.IsCA || len(ca.Cert.SubjectKeyId) == 0 {
		return nil, fmt.Errorf("%q is not a CA with a SubjectKeyIdentifier", ca.Cert.Subject.CommonName)
	}
	tmpl, key, err := template(o)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	return create(tmpl, ca.Cert, key, ca.Key)
}

func template(o Options) (*x509.Certificate, *rsa.PrivateKey, error) {
	if o.Subject == "" {
		return nil, nil, errors.New("empty subject")
	}
	if o.Bits < 2048 || o.Bits > 8192 {
		return nil, nil, fmt.Errorf("RSA key of %d bits: want 2048 to 8192", o.Bits)
	}
	if o.Days < 1 {
		return nil, nil, fmt.Errorf("validity of %d days", o.Days)
	}
	key, err := rsa.GenerateKey(rand.Reader, o.Bits)
	if err != nil {
		return nil, nil, err
	}
	ski, err := subjectKeyID(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().Add(-time.Hour).Truncate(time.Second) // a little slack for clocks behind
	return &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)),
		Subject:               pkix.Name{CommonName: o.Subject},
		NotBefore:             now,
		NotAfter:              now.AddDate(0, 0, o.Days),
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
	}, key, nil
}

func create(tmpl, parent *x509.Certificate, key *rsa.PrivateKey, signer crypto.Signer) (*KeyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// subjectKeyID is RFC 5280's method 1: SHA-1 over the subjectPublicKey bits,
// as openssl computes it by default.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, err
	}
	sum := sha1.Sum(info.PublicKey.Bytes)
	return sum[:], nil
}

// Files are where Write put a key pair.
type Files struct {
	Key, PEM, DER string
}

// FilesFor names a key pair's files: PREFIX.key, PREFIX.pem, PREFIX.der.
func FilesFor(prefix string) Files {
	return Files{Key: prefix + ".key", PEM: prefix + ".pem", DER: prefix + ".der"}
}

// Write saves the private key (PKCS#8 PEM, mode 0600), the certificate as
// PEM and as DER (mokutil and the initramfs want DER). No file is
// overwritten: if one exists nothing is written.
func (k *KeyPair) Write(prefix string) (Files, error) {
	f := FilesFor(prefix)
	for _, p := range []string{f.Key, f.PEM, f.DER} {
		if _, err := os.Lstat(p); err == nil {
			return f, fmt.Errorf("%s exists: not overwritten (remove it, or choose another -o)", p)
		}
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return f, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	defer clear(keyDER)
	defer clear(keyPEM)
	written := []string{}
	for _, out := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.Key, keyPEM, 0o600},
		{f.PEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw}), 0o644},
		{f.DER, k.Cert.Raw, 0o644},
	} {
		if err := writeNew(out.path, out.data, out.mode); err != nil {
			for _, p := range written {
				os.Remove(p)
			}
			return f, err
		}
		written = append(written, out.path)
	}
	return f, nil
}

// writeNew creates path (never an existing file) with mode from the start,
// so a private key is never readable by others, even for a moment.
func writeNew(path string, data []byte, mode os.FileMode) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		os.Remove(path)
		return err
	}
	if err := fh.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
