package relabel

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestApplySigned(t *testing.T) {
	dir := labelDir(t)
	p := filepath.Join(dir, "f")
	writeFile(t, p, "signed content", 0o755)
	d := sha256.Sum256([]byte("signed content"))
	label := SignatureLabel(TypeSignature, AlgoSHA256, 0x11223344, bytes.Repeat([]byte{7}, 256))

	wrote, err := ApplySigned(p, AlgoSHA256, d[:], label)
	if err != nil || !wrote {
		t.Fatalf("matching file: wrote %v, %v", wrote, err)
	}
	if got := getIMA(t, p, XattrIMA); !bytes.Equal(got, label) {
		t.Fatalf("security.ima %x, want %x", got, label)
	}
	if wrote, err := ApplySigned(p, AlgoSHA256, d[:], label); err != nil || wrote {
		t.Errorf("second apply: wrote %v, %v; want nothing written", wrote, err)
	}

	q := filepath.Join(dir, "changed")
	writeFile(t, q, "signed content, then changed", 0o755)
	if _, err := ApplySigned(q, AlgoSHA256, d[:], label); !errors.Is(err, ErrMismatch) {
		t.Errorf("changed file: err = %v, want ErrMismatch", err)
	}
	if got := getIMA(t, q, XattrIMA); got != nil {
		t.Errorf("changed file got security.ima %x", got)
	}

	l := filepath.Join(dir, "link")
	if err := os.Symlink(p, l); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplySigned(l, AlgoSHA256, d[:], label); err == nil {
		t.Error("a symlink was followed")
	}
}
