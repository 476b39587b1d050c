package relabel

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestParseLabelKnownTypes(t *testing.T) {
	d32 := bytes.Repeat([]byte{0xab}, 32)
	d20 := bytes.Repeat([]byte{0xcd}, 20)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"digest sha1", HashLabel(AlgoSHA1, d20), "digest sha1 " + hex.EncodeToString(d20)},
		{"digest md5", append([]byte{1}, d20[:16]...), "digest md5 " + hex.EncodeToString(d20[:16])},
		{"digest-ng sha256", HashLabel(AlgoSHA256, d32), "digest-ng sha256 " + hex.EncodeToString(d32)},
		{"hmac", append([]byte{2}, d20...), "hmac sha1 " + hex.EncodeToString(d20)},
		{"signature", SignatureLabel(TypeSignature, AlgoSHA512, 0x11121314, []byte{1, 2, 3}), "signature v2 sha512 keyid 11121314 (3-byte signature)"},
		{"portable", SignatureLabel(TypePortableSig, AlgoSHA256, 0xdeadbeef, []byte{9}), "portable-signature v2 sha256 keyid deadbeef (1-byte signature)"},
		{"verity v3", []byte{6, 3, 4, 0, 0, 0, 1, 0, 1, 7}, "verity-signature v3 sha256 keyid 00000001 (1-byte signature)"},
	} {
		l, err := ParseLabel(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := l.String(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSignatureLabelLayout(t *testing.T) {
	got := SignatureLabel(TypeSignature, AlgoSHA256, 0x01020304, bytes.Repeat([]byte{0xee}, 258))
	want, _ := hex.DecodeString("0302040102030401020000") // type ver algo keyid size=0x0102
	if !bytes.Equal(got[:9], want[:9]) || len(got) != 9+258 {
		t.Fatalf("header %x, len %d", got[:9], len(got))
	}
}

func TestParseLabelMalformed(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":               {},
		"unknown type":        {0x07, 1, 2},
		"sha1 short":          {0x01, 1, 2, 3},
		"ng no algo":          {0x04},
		"ng wrong size":       {0x04, 4, 1, 2, 3},
		"ng unknown algo":     append([]byte{0x04, 99}, make([]byte, 32)...),
		"sig header only":     {0x03, 2, 4, 0, 0, 0, 1, 0, 0},
		"sig size mismatch":   {0x03, 2, 4, 0, 0, 0, 1, 0, 5, 1, 2},
		"sig bad version":     {0x03, 1, 4, 0, 0, 0, 1, 0, 1, 1},
		"hmac wrong size":     {0x02, 1, 2},
		"sig unknown algo id": {0x03, 2, 200, 0, 0, 0, 1, 0, 1, 1},
	} {
		if _, err := ParseLabel(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func TestParseHashAlgo(t *testing.T) {
	for in, want := range map[string]HashAlgo{"sha1": AlgoSHA1, "SHA-256": AlgoSHA256, "sha512": AlgoSHA512, "sha3_256": AlgoSHA3_256} {
		got, err := ParseHashAlgo(in)
		if err != nil || got != want {
			t.Errorf("%s: got %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"md5", "streebog256", "crc32", ""} {
		if _, err := ParseHashAlgo(in); !errors.Is(err, ErrUnsupportedAlgo) {
			t.Errorf("%s: got %v, want ErrUnsupportedAlgo", in, err)
		}
	}
}

func TestEVMDigestLayout(t *testing.T) {
	// The 24-byte h_misc that evmctl -v prints for a root-owned 0644 file:
	// 0000000000000000 00000000 00000000 00000000 a481 0000.
	in := &EVMInput{Xattrs: [][]byte{{0x04, 0x04}}, UID: 0, GID: 0, Mode: 0o100644}
	got, _ := in.Digest(AlgoSHA256)
	misc, _ := hex.DecodeString("0000000000000000000000000000000000000000a4810000")
	want, _ := hashReader(bytes.NewReader(append([]byte{0x04, 0x04}, misc...)), AlgoSHA256, make([]byte, 64))
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x want %x", got, want)
	}
	in.UID = 1000
	if other, _ := in.Digest(AlgoSHA256); bytes.Equal(other, got) {
		t.Fatal("uid not hashed")
	}
}
