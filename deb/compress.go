package deb

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// decompressor opens a tar member's data by its name's suffix.
func decompressor(name string, data []byte) (io.Reader, error) {
	r := bytes.NewReader(data)
	switch {
	case strings.HasSuffix(name, ".tar"):
		return r, nil
	case strings.HasSuffix(name, ".tar.gz"):
		return gzip.NewReader(r)
	case strings.HasSuffix(name, ".tar.xz"):
		return xz.NewReader(r)
	case strings.HasSuffix(name, ".tar.zst"):
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case strings.HasSuffix(name, ".tar.bz2"):
		return bzip2.NewReader(r), nil
	case strings.HasSuffix(name, ".tar.lzma"):
		return lzma.NewReader(r)
	}
	return nil, fmt.Errorf("%w: member %q: unknown compression", ErrCorrupt, name)
}

// gzipBytes compresses b (the control archive imaboot writes).
func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}
