package debarchive

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
)

// Hasher computes the size, MD5 and SHA-256 of what is written to it: the
// checksums a Packages stanza and a Release file carry.
type Hasher struct {
	n      int64
	md5    hash.Hash
	sha256 hash.Hash
}

// NewHasher returns an empty Hasher.
func NewHasher() *Hasher { return &Hasher{md5: md5.New(), sha256: sha256.New()} }

func (h *Hasher) Write(b []byte) (int, error) {
	h.n += int64(len(b))
	h.md5.Write(b)
	h.sha256.Write(b)
	return len(b), nil
}

// Sum returns what was written so far.
func (h *Hasher) Sum() Sum {
	return Sum{Size: h.n, Digests: map[string]string{
		"MD5Sum": hex.EncodeToString(h.md5.Sum(nil)),
		"SHA256": hex.EncodeToString(h.sha256.Sum(nil)),
	}}
}

// SumOf returns the checksums of b.
func SumOf(b []byte) Sum {
	h := NewHasher()
	h.Write(b)
	return h.Sum()
}

// SumReader returns the checksums of everything r yields.
func SumReader(r io.Reader) (Sum, error) {
	h := NewHasher()
	_, err := io.Copy(h, r)
	return h.Sum(), err
}

// SHA256Hex is the hex SHA-256 of b.
func SHA256Hex(b []byte) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:])
}
