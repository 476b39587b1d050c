package keyload

import (
	"errors"
	"strconv"
)

// OIDs compared as DER content octets: the encoding of a valid OID is
// unique, and derOIDString refuses the rest.
var (
	oidRSA                  = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01} // 1.2.840.113549.1.1.1
	oidDSA                  = []byte{0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01}             // 1.2.840.10040.4.1
	oidECDSA                = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}             // 1.2.840.10045.2.1
	oidEd25519              = []byte{0x2b, 0x65, 0x70}                                     // 1.3.101.112
	oidSubjectKeyIdentifier = []byte{0x55, 0x1d, 0x0e}                                     // 2.5.29.14
)

// derOIDString returns an OBJECT IDENTIFIER's content in dotted form. It
// refuses what crypto/x509 refuses: no arcs, an arc not in its fewest
// octets, or an arc of 2^31 or more.
func derOIDString(content []byte) (string, error) {
	if len(content) == 0 {
		return "", errors.New("empty OBJECT IDENTIFIER")
	}
	var out []byte
	for first := true; len(content) > 0; first = false {
		if content[0] == 0x80 {
			return "", errors.New("OBJECT IDENTIFIER arc not minimally encoded")
		}
		arc := 0
		for i := 0; ; i++ {
			if i == len(content) {
				return "", errors.New("OBJECT IDENTIFIER truncated")
			}
			if arc >= 1<<(31-7) {
				return "", errors.New("OBJECT IDENTIFIER arc too large")
			}
			b := content[i]
			arc = arc<<7 | int(b&0x7f)
			if b&0x80 == 0 {
				content = content[i+1:]
				break
			}
		}
		if first {
			// The first octets hold two arcs: 40*x + y, x being 0, 1 or 2.
			x := min(arc/40, 2)
			out = strconv.AppendInt(out, int64(x), 10)
			out = append(out, '.')
			arc -= 40 * x
		} else {
			out = append(out, '.')
		}
		out = strconv.AppendInt(out, int64(arc), 10)
	}
	return string(out), nil
}

// publicKeyAlgorithmName names the key type as crypto/x509 does, and an
// algorithm it does not know by its OID.
func publicKeyAlgorithmName(oid []byte, dotted string) string {
	switch string(oid) {
	case string(oidRSA):
		return "RSA"
	case string(oidECDSA):
		return "ECDSA"
	case string(oidEd25519):
		return "Ed25519"
	case string(oidDSA):
		return "DSA"
	}
	return dotted
}
