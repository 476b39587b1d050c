package keyload

import (
	"errors"
	"fmt"
)

// A small DER reader, so that reading a certificate does not need
// crypto/x509: its first call costs 17-33 ms of code translation under QEMU
// TCG, and it links net and much else into the init binary. It is plain
// slicing over the input; nothing it returns is a copy.

// DER tags read in a certificate (class, constructed bit and number in one
// byte; high tag numbers are refused).
const (
	derBoolean         = 0x01
	derInteger         = 0x02
	derBitString       = 0x03
	derOctetString     = 0x04
	derOID             = 0x06
	derUTF8String      = 0x0c
	derNumericString   = 0x12
	derPrintableString = 0x13
	derT61String       = 0x14
	derIA5String       = 0x16
	derUTCTime         = 0x17
	derGeneralizedTime = 0x18
	derBMPString       = 0x1e
	derSequence        = 0x30
	derSet             = 0x31
)

// derElement is one tag-length-value.
type derElement struct {
	tag     byte
	content []byte // the value octets
	full    []byte // tag, length and value: what a signature or hash covers
}

// derNext splits the first element off b. Like the kernel's decoder
// (lib/asn1_decoder.c) it wants low tag numbers and definite lengths of at
// most two bytes that fit in what is left, and takes long-form lengths that
// are not minimal.
func derNext(b []byte) (el derElement, rest []byte, err error) {
	if len(b) == 0 {
		return el, nil, errors.New("missing")
	}
	if len(b) < 2 {
		return el, nil, errors.New("truncated header")
	}
	tag := b[0]
	if tag&0x1f == 0x1f {
		return el, nil, fmt.Errorf("tag 0x%02x: high tag numbers are not supported", tag)
	}
	n, hdr := int(b[1]), 2
	if n >= 0x80 {
		size := int(n & 0x7f)
		switch {
		case size == 0:
			return el, nil, errors.New("indefinite length (BER, not DER)")
		case size > 2:
			return el, nil, fmt.Errorf("length of %d bytes: the kernel takes at most 2", size)
		case len(b) < 2+size:
			return el, nil, errors.New("truncated length")
		}
		n = 0
		for _, x := range b[2 : 2+size] {
			n = n<<8 | int(x)
		}
		hdr += size
	}
	if n > len(b)-hdr {
		return el, nil, fmt.Errorf("length %d exceeds the %d bytes left", n, len(b)-hdr)
	}
	end := hdr + n
	return derElement{tag: tag, content: b[hdr:end], full: b[:end]}, b[end:], nil
}

// derReader walks the elements inside one constructed value, in order.
type derReader struct{ rest []byte }

// read returns the next element, which must carry tag; what names the field
// in errors.
func (r *derReader) read(tag byte, what string) (derElement, error) {
	el, rest, err := derNext(r.rest)
	if err != nil {
		return el, fmt.Errorf("%s: %w", what, err)
	}
	if el.tag != tag {
		return el, fmt.Errorf("%s: found %s, want %s", what, derTagName(el.tag), derTagName(tag))
	}
	r.rest = rest
	return el, nil
}

// optional reads the next element only when it carries tag.
func (r *derReader) optional(tag byte, what string) (derElement, bool, error) {
	if len(r.rest) == 0 || r.rest[0] != tag {
		return derElement{}, false, nil
	}
	el, err := r.read(tag, what)
	return el, err == nil, err
}

// end fails when anything is left: the kernel refuses unexpected trailing
// elements, so a certificate we accept with them would not load anyway.
func (r *derReader) end(what string) error {
	if len(r.rest) > 0 {
		return fmt.Errorf("%d unexpected bytes after %s", len(r.rest), what)
	}
	return nil
}

// derBits returns a BIT STRING's bits, checking the unused-bits count and
// that the unused bits are zero.
func derBits(content []byte) ([]byte, error) {
	if len(content) == 0 {
		return nil, errors.New("BIT STRING without the unused-bits octet")
	}
	unused, bits := content[0], content[1:]
	if unused > 7 || len(bits) == 0 && unused != 0 {
		return nil, fmt.Errorf("BIT STRING with %d unused bits of %d bytes", unused, len(bits))
	}
	if len(bits) > 0 && bits[len(bits)-1]&(1<<unused-1) != 0 {
		return nil, errors.New("BIT STRING with nonzero unused bits")
	}
	return bits, nil
}

func derTagName(tag byte) string {
	switch tag {
	case derBoolean:
		return "BOOLEAN"
	case derInteger:
		return "INTEGER"
	case derBitString:
		return "BIT STRING"
	case derOctetString:
		return "OCTET STRING"
	case derOID:
		return "OBJECT IDENTIFIER"
	case derUTCTime:
		return "UTCTime"
	case derGeneralizedTime:
		return "GeneralizedTime"
	case derSequence:
		return "SEQUENCE"
	case derSet:
		return "SET"
	}
	if tag&0xc0 == 0x80 {
		return fmt.Sprintf("[%d] (tag 0x%02x)", tag&0x1f, tag)
	}
	return fmt.Sprintf("tag 0x%02x", tag)
}
