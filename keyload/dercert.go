package keyload

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// certFields is what a Certificate is made of, read from its DER.
type certFields struct {
	serial    []byte // INTEGER content octets, as the kernel's key id uses them
	issuerRaw []byte // issuer Name content octets, likewise
	issuer    string
	subject   string
	notAfter  time.Time
	algorithm string // RSA, ECDSA, Ed25519, DSA, or the OID
	publicKey []byte // subjectPublicKey bits
	ski       []byte // SubjectKeyIdentifier octets, nil when absent
}

// parseCertDER reads an X.509 certificate (RFC 5280 4.1):
//
//	Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
//
// It checks the structure the kernel's parser checks and reads only what
// the report and the key id need; the kernel judges keys and signatures.
func parseCertDER(der []byte) (certFields, error) {
	cert, rest, err := derNext(der)
	if err == nil && cert.tag != derSequence {
		err = fmt.Errorf("found %s, want SEQUENCE", derTagName(cert.tag))
	}
	if err != nil {
		return certFields{}, fmt.Errorf("Certificate: %w", err)
	}
	if len(rest) > 0 {
		return certFields{}, fmt.Errorf("%d byte(s) after the certificate", len(rest))
	}
	r := derReader{cert.content}
	tbs, err := r.read(derSequence, "TBSCertificate")
	if err != nil {
		return certFields{}, err
	}
	f, tbsSigAlg, err := parseTBS(tbs.content)
	if err != nil {
		return certFields{}, fmt.Errorf("TBSCertificate: %w", err)
	}
	sigAlg, err := r.read(derSequence, "signatureAlgorithm")
	if err != nil {
		return certFields{}, err
	}
	// The kernel refuses a certificate whose two algorithms differ.
	if !bytes.Equal(sigAlg.full, tbsSigAlg) {
		return certFields{}, errors.New("signatureAlgorithm differs from TBSCertificate's signature")
	}
	sig, err := r.read(derBitString, "signatureValue")
	if err != nil {
		return certFields{}, err
	}
	if _, err := derBits(sig.content); err != nil {
		return certFields{}, fmt.Errorf("signatureValue: %w", err)
	}
	return f, r.end("signatureValue")
}

// parseTBS reads TBSCertificate's fields in order, and returns its
// signature AlgorithmIdentifier for the caller to compare:
//
//	version [0] EXPLICIT INTEGER DEFAULT v1, serialNumber INTEGER,
//	signature AlgorithmIdentifier, issuer Name, validity, subject Name,
//	subjectPublicKeyInfo, issuerUniqueID [1] and subjectUniqueID [2]
//	(v2, v3), extensions [3] EXPLICIT (v3)
func parseTBS(tbs []byte) (f certFields, sigAlg []byte, err error) {
	r := derReader{tbs}
	version := 0 // v1
	if v, ok, err := r.optional(0xa0, "version"); err != nil {
		return f, nil, err
	} else if ok {
		if version, err = parseVersion(v.content); err != nil {
			return f, nil, fmt.Errorf("version: %w", err)
		}
	}
	serial, err := r.read(derInteger, "serialNumber")
	if err != nil {
		return f, nil, err
	}
	if len(serial.content) == 0 {
		return f, nil, errors.New("serialNumber: empty INTEGER")
	}
	f.serial = serial.content
	alg, err := r.read(derSequence, "signature")
	if err != nil {
		return f, nil, err
	}
	if _, _, err := parseAlgorithm(alg.content); err != nil {
		return f, nil, fmt.Errorf("signature: %w", err)
	}
	issuer, err := r.read(derSequence, "issuer")
	if err != nil {
		return f, nil, err
	}
	f.issuerRaw = issuer.content
	if f.issuer, err = parseName(issuer.content); err != nil {
		return f, nil, fmt.Errorf("issuer: %w", err)
	}
	validity, err := r.read(derSequence, "validity")
	if err != nil {
		return f, nil, err
	}
	if f.notAfter, err = parseValidity(validity.content); err != nil {
		return f, nil, fmt.Errorf("validity: %w", err)
	}
	subject, err := r.read(derSequence, "subject")
	if err != nil {
		return f, nil, err
	}
	if f.subject, err = parseName(subject.content); err != nil {
		return f, nil, fmt.Errorf("subject: %w", err)
	}
	spki, err := r.read(derSequence, "subjectPublicKeyInfo")
	if err != nil {
		return f, nil, err
	}
	if f.algorithm, f.publicKey, err = parseSPKI(spki.content); err != nil {
		return f, nil, fmt.Errorf("subjectPublicKeyInfo: %w", err)
	}
	if version >= 1 {
		if _, _, err := r.optional(0x81, "issuerUniqueID"); err != nil {
			return f, nil, err
		}
		if _, _, err := r.optional(0x82, "subjectUniqueID"); err != nil {
			return f, nil, err
		}
	}
	if version == 2 {
		ext, ok, err := r.optional(0xa3, "extensions")
		if err != nil {
			return f, nil, err
		}
		if ok {
			if f.ski, err = parseExtensions(ext.content); err != nil {
				return f, nil, fmt.Errorf("extensions: %w", err)
			}
		}
	}
	// Extensions in a v1 or v2 certificate end up here: x509 ignored them, the
	// kernel reads them; refuse rather than guess which key id is meant.
	return f, alg.full, r.end(fmt.Sprintf("the last field of a v%d certificate", version+1))
}

// parseVersion reads the INTEGER inside [0]: 0, 1 or 2 for v1, v2, v3.
func parseVersion(explicit []byte) (int, error) {
	r := derReader{explicit}
	v, err := r.read(derInteger, "INTEGER")
	if err != nil {
		return 0, err
	}
	if err := r.end("the INTEGER"); err != nil {
		return 0, err
	}
	if len(v.content) != 1 || v.content[0] > 2 {
		return 0, fmt.Errorf("%x is not v1, v2 or v3", v.content)
	}
	return int(v.content[0]), nil
}

// parseAlgorithm reads an AlgorithmIdentifier: an OID and optional
// parameters (any one element).
func parseAlgorithm(content []byte) (oid []byte, dotted string, err error) {
	r := derReader{content}
	el, err := r.read(derOID, "OID")
	if err != nil {
		return nil, "", err
	}
	if dotted, err = derOIDString(el.content); err != nil {
		return nil, "", err
	}
	if len(r.rest) > 0 {
		if _, r.rest, err = derNext(r.rest); err != nil {
			return nil, "", fmt.Errorf("parameters: %w", err)
		}
	}
	return el.content, dotted, r.end("the parameters")
}

// parseValidity reads notBefore and notAfter; both must be valid times.
func parseValidity(content []byte) (time.Time, error) {
	var t [2]time.Time
	r := derReader{content}
	for i, what := range []string{"notBefore", "notAfter"} {
		el, rest, err := derNext(r.rest)
		if err == nil {
			t[i], err = derTime(el)
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", what, err)
		}
		r.rest = rest
	}
	return t[1], r.end("notAfter")
}

// parseSPKI reads SubjectPublicKeyInfo: the key's algorithm and the bits
// evmctl hashes for its default key id.
func parseSPKI(content []byte) (algorithm string, key []byte, err error) {
	r := derReader{content}
	alg, err := r.read(derSequence, "algorithm")
	if err != nil {
		return "", nil, err
	}
	oid, dotted, err := parseAlgorithm(alg.content)
	if err != nil {
		return "", nil, fmt.Errorf("algorithm: %w", err)
	}
	bits, err := r.read(derBitString, "subjectPublicKey")
	if err != nil {
		return "", nil, err
	}
	if key, err = derBits(bits.content); err != nil {
		return "", nil, fmt.Errorf("subjectPublicKey: %w", err)
	}
	return publicKeyAlgorithmName(oid, dotted), key, r.end("subjectPublicKey")
}
