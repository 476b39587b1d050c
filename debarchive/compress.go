package debarchive

import (
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"os/exec"

	"github.com/imaboot/imaboot/deb"
	"github.com/pierrec/lz4/v4"
)

// IndexSuffixes are the compressions an index may have, in the order a
// reader prefers them (cheapest to decompress first).
var IndexSuffixes = []string{"", ".gz", ".zst", ".lz4", ".xz", ".bz2"}

// Decompress returns the content of an index compressed as suffix says.
func Decompress(suffix string, b []byte) ([]byte, error) {
	var r io.Reader
	switch suffix {
	case "", ".gz", ".xz", ".zst":
		rc, err := deb.Compression(suffix).Reader(b)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		r = rc
	case ".bz2":
		r = bzip2.NewReader(bytes.NewReader(b))
	case ".lz4":
		r = lz4.NewReader(bytes.NewReader(b))
	default:
		return nil, fmt.Errorf("compression %q is not supported", suffix)
	}
	return io.ReadAll(r)
}

// Compress returns b compressed as suffix says. bzip2 needs the bzip2
// tool (Go has no bzip2 writer).
func Compress(suffix string, b []byte) ([]byte, error) {
	switch suffix {
	case "", ".gz", ".xz", ".zst":
		return deb.Compression(suffix).Compress(b)
	case ".lz4":
		var out bytes.Buffer
		w := lz4.NewWriter(&out)
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	case ".bz2":
		cmd := exec.Command("bzip2", "-c", "-9")
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("bzip2 (for a .bz2 index): %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("compression %q is not supported", suffix)
}
