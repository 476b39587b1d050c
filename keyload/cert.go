package keyload

import (
	"bytes"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"
)

// Certificate is one X.509 certificate read from a file, with what the
// kernel will know it by.
type Certificate struct {
	File  string // path it was read from
	Index int    // position in a PEM bundle (1-based), 0 for a file of one
	DER   []byte // what is handed to add_key

	Subject   string
	Issuer    string
	NotAfter  time.Time
	Algorithm string // public key algorithm: RSA, ECDSA, Ed25519, DSA, else its OID

	// KeyID is the 8 hex digits the kernel matches the key id of an IMA/EVM
	// signature against (see certKeyID for how it is derived).
	KeyID string
	// KeyIDSource says where KeyID came from: "subjectKeyIdentifier", or
	// "issuer+serial" when the certificate has no SubjectKeyIdentifier.
	KeyIDSource string
	// KeyHashID is the last 4 bytes of SHA-1 over the public key: the key id
	// evmctl puts in signatures unless told --keyid or --keyid-from-cert.
	KeyHashID string
}

// Warning says when signatures made the usual way will not find this key,
// or "" when KeyID and KeyHashID agree.
func (c Certificate) Warning() string {
	if c.KeyID == c.KeyHashID {
		return ""
	}
	if c.KeyIDSource != keyIDFromSKI {
		return fmt.Sprintf("no SubjectKeyIdentifier: the kernel looks this key up as %s (tail of issuer+serial), evmctl signs with %s by default; sign with --keyid=%s or reissue the certificate with a SubjectKeyIdentifier", c.KeyID, c.KeyHashID, c.KeyID)
	}
	return fmt.Sprintf("SubjectKeyIdentifier is not the SHA-1 of the key: sign with evmctl --keyid-from-cert or --keyid=%s (default would be %s)", c.KeyID, c.KeyHashID)
}

// String is the one-line description used in reports.
func (c Certificate) String() string {
	name := c.File
	if c.Index > 0 {
		name = fmt.Sprintf("%s[%d]", c.File, c.Index)
	}
	return fmt.Sprintf("%s: %q key id %s (%s)", name, c.Subject, c.KeyID, c.Algorithm)
}

// ParseError says which file failed to parse, which certificate in it, and
// which parse step failed.
type ParseError struct {
	File  string
	Index int    // PEM block number (1-based), 0 when not applicable
	Step  string // "read", "PEM", "DER", "X.509", "key id"
	Err   error
}

func (e *ParseError) Error() string {
	where := e.File
	if e.Index > 0 {
		where = fmt.Sprintf("%s block %d", e.File, e.Index)
	}
	if e.Step == "read" {
		return fmt.Sprintf("certificate %s: read: %v", where, e.Err)
	}
	return fmt.Sprintf("certificate %s: %s parse failed: %v", where, e.Step, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ReadCertificateFile reads a DER certificate or a PEM file holding one or
// more CERTIFICATE blocks.
func ReadCertificateFile(path string) ([]Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ParseError{File: path, Step: "read", Err: err}
	}
	return ParseCertificates(path, data)
}

// ParseCertificates parses data as DER or PEM; name is used in errors and
// reports. A PEM file with any block that is not a certificate is refused:
// a private key in a certificate directory is a mistake to stop at.
func ParseCertificates(name string, data []byte) ([]Certificate, error) {
	if len(data) == 0 {
		return nil, &ParseError{File: name, Step: "read", Err: fmt.Errorf("file is empty")}
	}
	if certLooksDER(data) {
		c, err := certParseDER(name, 0, data)
		if err != nil {
			return nil, err
		}
		return []Certificate{c}, nil
	}
	return certParsePEM(name, data)
}

// certLooksDER: a DER certificate starts with a SEQUENCE tag; PEM is text.
func certLooksDER(data []byte) bool {
	return len(data) > 1 && data[0] == 0x30 && !bytes.Contains(data, []byte("-----BEGIN"))
}

func certParsePEM(name string, data []byte) ([]Certificate, error) {
	var certs []Certificate
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, &ParseError{File: name, Index: n, Step: "PEM", Err: fmt.Errorf("block is %q, not CERTIFICATE", block.Type)}
		}
		c, err := certParseDER(name, n, block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, &ParseError{File: name, Step: "PEM", Err: fmt.Errorf("neither DER (does not start with a SEQUENCE) nor PEM (no -----BEGIN CERTIFICATE----- block)")}
	}
	if strings.Contains(string(rest), "-----BEGIN") {
		return nil, &ParseError{File: name, Index: len(certs) + 1, Step: "PEM", Err: fmt.Errorf("malformed block after %d certificate(s)", len(certs))}
	}
	if len(certs) == 1 {
		certs[0].Index = 0 // a bundle of one is named by its file alone
	}
	return certs, nil
}

func certParseDER(name string, index int, der []byte) (Certificate, error) {
	f, err := parseCertDER(der)
	if err != nil {
		return Certificate{}, &ParseError{File: name, Index: index, Step: "X.509", Err: err}
	}
	id, source, err := certKeyID(f)
	if err != nil {
		return Certificate{}, &ParseError{File: name, Index: index, Step: "key id", Err: err}
	}
	return Certificate{
		File:        name,
		Index:       index,
		DER:         der,
		Subject:     f.subject,
		Issuer:      f.issuer,
		NotAfter:    f.notAfter,
		Algorithm:   f.algorithm,
		KeyID:       hex.EncodeToString(id),
		KeyIDSource: source,
		KeyHashID:   hex.EncodeToString(certKeyHashID(f)),
	}, nil
}
