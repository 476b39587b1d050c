package keyload

import (
	"bytes"
	"fmt"
)

// parseExtensions reads the content of TBSCertificate's [3] and returns
// the SubjectKeyIdentifier's octets, nil when there is none. The other
// extensions are only checked for shape: the kernel reads none of them
// for the key id.
//
//	Extensions ::= SEQUENCE OF SEQUENCE {
//	    extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
func parseExtensions(explicit []byte) (ski []byte, err error) {
	outer := derReader{explicit}
	seq, err := outer.read(derSequence, "SEQUENCE")
	if err != nil {
		return nil, err
	}
	if err := outer.end("the SEQUENCE"); err != nil {
		return nil, err
	}
	var seen [][]byte
	r := derReader{seq.content}
	for n := 1; len(r.rest) > 0; n++ {
		id, value, err := parseExtension(&r)
		if err != nil {
			return nil, fmt.Errorf("extension %d: %w", n, err)
		}
		for _, s := range seen {
			if bytes.Equal(s, id) {
				dotted, _ := derOIDString(id)
				return nil, fmt.Errorf("extension %d: %s appears twice", n, dotted)
			}
		}
		seen = append(seen, id)
		if bytes.Equal(id, oidSubjectKeyIdentifier) {
			if ski, err = parseSKI(value); err != nil {
				return nil, fmt.Errorf("SubjectKeyIdentifier: %w", err)
			}
		}
	}
	return ski, nil
}

// parseExtension returns one extension's extnID and extnValue octets.
func parseExtension(exts *derReader) (id, value []byte, err error) {
	ext, err := exts.read(derSequence, "Extension")
	if err != nil {
		return nil, nil, err
	}
	r := derReader{ext.content}
	oid, err := r.read(derOID, "extnID")
	if err != nil {
		return nil, nil, err
	}
	if _, err := derOIDString(oid.content); err != nil {
		return nil, nil, fmt.Errorf("extnID: %w", err)
	}
	if crit, ok, err := r.optional(derBoolean, "critical"); err != nil {
		return nil, nil, err
	} else if ok && (len(crit.content) != 1 || crit.content[0] != 0 && crit.content[0] != 0xff) {
		return nil, nil, fmt.Errorf("critical: BOOLEAN %x", crit.content)
	}
	v, err := r.read(derOctetString, "extnValue")
	if err != nil {
		return nil, nil, err
	}
	return oid.content, v.content, r.end("extnValue")
}

// parseSKI reads SubjectKeyIdentifier ::= OCTET STRING from extnValue.
func parseSKI(value []byte) ([]byte, error) {
	r := derReader{value}
	ski, err := r.read(derOctetString, "KeyIdentifier")
	if err != nil {
		return nil, err
	}
	if err := r.end("the KeyIdentifier"); err != nil {
		return nil, err
	}
	return ski.content, nil
}
