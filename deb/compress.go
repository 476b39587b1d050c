package deb

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression is a tar member's compression, named by its suffix.
type Compression string

// The compressions dpkg-deb reads.
const (
	None Compression = ""
	Gzip Compression = ".gz"
	XZ   Compression = ".xz"
	Zstd Compression = ".zst"
)

// splitMember returns the compression of "control.tar.xz" for base "control.tar".
func splitMember(name, base string) (Compression, bool, error) {
	if !strings.HasPrefix(name, base) {
		return None, false, nil
	}
	switch c := Compression(name[len(base):]); c {
	case None, Gzip, XZ, Zstd:
		return c, true, nil
	}
	return None, true, fmt.Errorf("member %s: unknown compression %q (want none, .gz, .xz or .zst): %w", name, name[len(base):], ErrFormat)
}

// Reader decompresses a member's content.
func (c Compression) Reader(b []byte) (io.ReadCloser, error) {
	r := bytes.NewReader(b)
	switch c {
	case None:
		return io.NopCloser(r), nil
	case Gzip:
		return gzip.NewReader(r)
	case XZ:
		if tool := xzTool(); tool != "" {
			return toolReader(tool, b)
		}
		x, err := xz.NewReader(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(x), nil
	case Zstd:
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return z.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown compression %q", string(c))
}

// Compress returns b compressed.
func (c Compression) Compress(b []byte) ([]byte, error) {
	var out bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case None:
		return b, nil
	case Gzip:
		w, err = gzip.NewWriterLevel(&out, gzip.BestCompression)
	case XZ:
		if tool := xzTool(); tool != "" {
			return toolCompress(tool, b)
		}
		w, err = xz.NewWriter(&out)
	case Zstd:
		w, err = zstd.NewWriter(&out, zstd.WithEncoderConcurrency(1))
	default:
		err = fmt.Errorf("unknown compression %q", string(c))
	}
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
