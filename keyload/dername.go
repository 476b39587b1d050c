package keyload

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// nameAttr is one AttributeTypeAndValue of a distinguished name.
type nameAttr struct {
	oid   []byte // content octets of the attribute type
	value string // decoded to UTF-8
}

// parseName reads a Name (a SEQUENCE OF SET OF AttributeTypeAndValue) from
// the content octets of its SEQUENCE, and formats it.
func parseName(content []byte) (string, error) {
	var attrs []nameAttr
	names := derReader{content}
	for n := 1; len(names.rest) > 0; n++ {
		set, err := names.read(derSet, fmt.Sprintf("RDN %d", n))
		if err != nil {
			return "", err
		}
		rdn := derReader{set.content}
		for i := 1; len(rdn.rest) > 0; i++ {
			a, err := parseNameAttr(&rdn)
			if err != nil {
				return "", fmt.Errorf("RDN %d: attribute %d: %w", n, i, err)
			}
			attrs = append(attrs, a)
		}
	}
	return nameString(attrs), nil
}

func parseNameAttr(rdn *derReader) (nameAttr, error) {
	seq, err := rdn.read(derSequence, "AttributeTypeAndValue")
	if err != nil {
		return nameAttr{}, err
	}
	r := derReader{seq.content}
	typ, err := r.read(derOID, "type")
	if err != nil {
		return nameAttr{}, err
	}
	if _, err := derOIDString(typ.content); err != nil {
		return nameAttr{}, fmt.Errorf("type: %w", err)
	}
	v, rest, err := derNext(r.rest)
	if err != nil {
		return nameAttr{}, fmt.Errorf("value: %w", err)
	}
	r.rest = rest
	if err := r.end("the value"); err != nil {
		return nameAttr{}, err
	}
	s, err := derString(v.tag, v.content)
	if err != nil {
		return nameAttr{}, fmt.Errorf("value: %w", err)
	}
	return nameAttr{oid: typ.content, value: s}, nil
}

// Attribute types crypto/x509 has names for, by the last arc of 2.5.4.x, in
// the order its Name.String() puts them (reversed when printed).
// single: x509 keeps one CommonName and SerialNumber, the last, if not empty.
var nameKnown = []struct {
	arc    byte
	label  string
	single bool
}{
	{6, "C", false}, {8, "ST", false}, {7, "L", false}, {9, "STREET", false},
	{17, "POSTALCODE", false}, {10, "O", false}, {11, "OU", false},
	{3, "CN", true}, {5, "SERIALNUMBER", true},
}

// nameIsKnown: a 2.5.4.x type crypto/x509 has a label for.
func nameIsKnown(oid []byte) bool {
	if len(oid) != 3 || oid[0] != 0x55 || oid[1] != 0x04 {
		return false
	}
	for _, k := range nameKnown {
		if k.arc == oid[2] {
			return true
		}
	}
	return false
}

// nameString formats a name exactly as crypto/x509's pkix.Name.String()
// did, so reports and logs read as before. That is not the RDNs in order:
// types x509 knows are regrouped into one RDN per type, in nameKnown order,
// after the other types (one RDN each, OID=#hex of their DER value); the
// RDNs are then printed last first, values escaped as in RFC 2253.
func nameString(attrs []nameAttr) string {
	var rdns [][]string
	for _, a := range attrs {
		if !nameIsKnown(a.oid) {
			dotted, _ := derOIDString(a.oid) // checked by parseNameAttr
			rdns = append(rdns, []string{dotted + "=#" + hex.EncodeToString(nameValueDER(a.value))})
		}
	}
	for _, k := range nameKnown {
		var vals []string
		for _, a := range attrs {
			if nameIsKnown(a.oid) && a.oid[2] == k.arc {
				vals = append(vals, a.value)
			}
		}
		if k.single && len(vals) > 0 {
			vals = vals[len(vals)-1:]
			if vals[0] == "" {
				continue
			}
		}
		if len(vals) == 0 {
			continue
		}
		rdn := make([]string, len(vals))
		for i, v := range vals {
			rdn[i] = k.label + "=" + nameEscape(v)
		}
		rdns = append(rdns, rdn)
	}
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.Join(rdns[i], "+"))
	}
	return b.String()
}

// nameEscape escapes a value as pkix does: , + " \ < > ; anywhere, a space
// at either end and a # at the start.
func nameEscape(v string) string {
	var b strings.Builder
	for i, c := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;`, c),
			c == ' ' && (i == 0 || i == len(v)-1),
			c == '#' && i == 0:
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// nameValueDER re-encodes a value the way encoding/asn1.Marshal does for a
// Go string, which is what pkix prints for unknown types: a
// PrintableString when every character allows it, else a UTF8String.
func nameValueDER(v string) []byte {
	tag := byte(derPrintableString)
	for i := 0; i < len(v); i++ {
		if !isPrintableChar(v[i]) { // Marshal writes '*' and '&' as UTF8String too
			tag = derUTF8String
			break
		}
	}
	return append(derAppendLength([]byte{tag}, len(v)), v...)
}

// derAppendLength appends n as a minimal DER length.
func derAppendLength(out []byte, n int) []byte {
	if n < 0x80 {
		return append(out, byte(n))
	}
	var be []byte
	for ; n > 0; n >>= 8 {
		be = append([]byte{byte(n)}, be...)
	}
	return append(append(out, 0x80|byte(len(be))), be...)
}
