package ownerca

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"
)

// Findings are what Verify found: Problems make the kernel refuse the
// certificate under TRUST=ca, or make it a poor release certificate;
// Warnings are limits to know of.
type Findings struct {
	Problems, Warnings []string
}

// Err is nil when there is no problem.
func (f Findings) Err() error {
	if len(f.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(f.Problems, "; "))
}

// Verify checks a release certificate against the owner's CA as the kernel
// will under TRUST=ca: signed by the CA's key, and naming the CA's
// SubjectKeyIdentifier in its AuthorityKeyIdentifier (the kernel looks the
// signer up by it, restrict_link_by_key_or_keyring: without it the
// certificate is refused with ENOKEY, however well signed).
func Verify(ca, cert *x509.Certificate) Findings {
	var f Findings
	if len(ca.SubjectKeyId) == 0 {
		f.Problems = append(f.Problems, fmt.Sprintf("the CA %q has no SubjectKeyIdentifier: TRUST_CA cannot name it", ca.Subject.CommonName))
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		f.Problems = append(f.Problems, fmt.Sprintf("not signed by the CA %q: %v", ca.Subject.CommonName, err))
	}
	switch {
	case len(cert.AuthorityKeyId) == 0:
		f.Problems = append(f.Problems, "no AuthorityKeyIdentifier: the kernel cannot find the CA that signed it (ENOKEY)")
	case !bytes.Equal(cert.AuthorityKeyId, ca.SubjectKeyId):
		f.Problems = append(f.Problems, fmt.Sprintf("its AuthorityKeyIdentifier %x names another key than the CA (%x): the kernel would not find the CA (ENOKEY)", cert.AuthorityKeyId, ca.SubjectKeyId))
	}
	if cert.IsCA {
		f.Problems = append(f.Problems, "it is itself a CA (basicConstraints CA:TRUE): a release certificate signs files, not certificates")
	}
	if len(cert.SubjectKeyId) == 0 {
		f.Warnings = append(f.Warnings, "no SubjectKeyIdentifier: the kernel finds the key by issuer and serial, and evmctl's default key id will not match (sign with --keyid)")
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		f.Warnings = append(f.Warnings, "keyUsage lacks digitalSignature")
	}
	if ca.PublicKeyAlgorithm != x509.RSA {
		f.Warnings = append(f.Warnings, fmt.Sprintf("the CA's key is %s: Debian's 6.1 kernels verify only RSA certificate signatures", ca.PublicKeyAlgorithm))
	}
	if cert.PublicKeyAlgorithm != x509.RSA {
		f.Warnings = append(f.Warnings, fmt.Sprintf("the key is %s: Debian's 6.1 kernels cannot verify files it signs (no ECDSA)", cert.PublicKeyAlgorithm))
	}
	return f
}
