package keyload

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// derString decodes a directory string to UTF-8, accepting what
// crypto/x509 accepts so names read as they did.
func derString(tag byte, v []byte) (string, error) {
	switch tag {
	case derUTF8String:
		if !utf8.Valid(v) {
			return "", errors.New("UTF8String is not valid UTF-8")
		}
		return string(v), nil
	case derPrintableString:
		for _, c := range v {
			if !isPrintableChar(c) && c != '*' && c != '&' { // both common in real certificates
				return "", fmt.Errorf("PrintableString holds %q", c)
			}
		}
		return string(v), nil
	case derIA5String:
		for _, c := range v {
			if c >= utf8.RuneSelf {
				return "", fmt.Errorf("IA5String holds byte 0x%02x", c)
			}
		}
		return string(v), nil
	case derNumericString:
		for _, c := range v {
			if (c < '0' || c > '9') && c != ' ' {
				return "", fmt.Errorf("NumericString holds %q", c)
			}
		}
		return string(v), nil
	case derT61String:
		// Read as Latin-1, as x509 and BoringSSL do: T.61 almost maps onto it.
		b := make([]byte, 0, len(v))
		for _, c := range v {
			b = utf8.AppendRune(b, rune(c))
		}
		return string(b), nil
	case derBMPString:
		return bmpString(v)
	}
	return "", fmt.Errorf("unsupported string type %s", derTagName(tag))
}

// bmpString decodes UCS-2 (big-endian), dropping a terminating zero and
// refusing surrogates and noncharacters, as x509 does.
func bmpString(v []byte) (string, error) {
	if len(v)%2 != 0 {
		return "", errors.New("BMPString of odd length")
	}
	if n := len(v); n >= 2 && v[n-1] == 0 && v[n-2] == 0 {
		v = v[:n-2]
	}
	u := make([]uint16, 0, len(v)/2)
	for ; len(v) > 0; v = v[2:] {
		c := uint16(v[0])<<8 | uint16(v[1])
		if c == 0xfffe || c == 0xffff || c >= 0xfdd0 && c <= 0xfdef || c >= 0xd800 && c <= 0xdfff {
			return "", fmt.Errorf("BMPString holds U+%04X", c)
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), nil
}

// isPrintableChar: the ASN.1 PrintableString alphabet.
func isPrintableChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		'\'' <= c && c <= ')' || '+' <= c && c <= '/' ||
		c == ' ' || c == ':' || c == '=' || c == '?'
}
