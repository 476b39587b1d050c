package relabel

import (
	"bytes"
	"testing"
)

// FuzzParseLabel reads arbitrary bytes as a security.ima or security.evm
// value (what a file on an untrusted disk carries). Nothing may panic; a
// digest label that parses encodes back to the same algorithm and digest
// (byte for byte, except that a sha1 digest is written in the old format,
// 0x01, which the kernel reads as well as 0x04 0x02), and a signature label
// to the same header and signature.
func FuzzParseLabel(f *testing.F) {
	f.Add(HashLabel(AlgoSHA256, make([]byte, 32)))
	f.Add(HashLabel(AlgoSHA1, make([]byte, 20)))
	f.Add(SignatureLabel(TypeSignature, AlgoSHA256, 0x01020304, []byte("signature")))
	f.Add(SignatureLabel(TypePortableSig, AlgoSHA512, 7, []byte{1}))
	f.Add([]byte{0x02, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLabel(b)
		if err != nil {
			return
		}
		_ = l.String()
		switch {
		case l.Type == TypeDigestNG || (l.Type == TypeDigest && l.Algo == AlgoSHA1):
			enc := HashLabel(l.Algo, l.Digest)
			again, err := ParseLabel(enc)
			if err != nil || again.Algo != l.Algo || !bytes.Equal(again.Digest, l.Digest) ||
				(l.Algo != AlgoSHA1 && !bytes.Equal(enc, b)) {
				t.Fatalf("%x parses as %v but encodes as %x", b, l, enc)
			}
		case l.Version == signatureVersion && l.IsSignature():
			if !bytes.Equal(SignatureLabel(l.Type, l.Algo, l.KeyID, l.Signature), b) {
				t.Fatalf("%x parses as %v but encodes differently", b, l)
			}
		}
	})
}
