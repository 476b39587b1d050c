package tpm

import (
	"bytes"
	"testing"
)

// FuzzParseBlob reads arbitrary bytes as a sealed master key blob (a file
// in the initramfs or on disk). Nothing may panic; a blob that parses
// encodes back to bytes that parse to the same blob.
func FuzzParseBlob(f *testing.F) {
	f.Add([]byte(blobMagic))
	f.Add([]byte(blobMagic + "\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBlob(data, "fuzz")
		if err != nil {
			return
		}
		out, err := b.MarshalBinary()
		if err != nil {
			return // a blob the format reads but would not write (e.g. no PCRs)
		}
		again, err := ParseBlob(out, "fuzz")
		if err != nil {
			t.Fatalf("re-encoded blob does not parse: %v", err)
		}
		if again2, _ := again.MarshalBinary(); !bytes.Equal(again2, out) {
			t.Fatal("encoding is not stable")
		}
	})
}
