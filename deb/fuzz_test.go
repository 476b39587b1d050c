package deb

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"
)

// FuzzRead reads arbitrary bytes as a .deb: the ar container, the member
// order, then both tar members through their decompressors (Go's: the
// system's xz is another program). Nothing may panic; a package that reads
// writes back to bytes that read the same.
func FuzzRead(f *testing.F) {
	UseXZTool = false
	defer func() { UseXZTool = true }()
	tarOf := func(name, body string) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
		tw.Close()
		return b.Bytes()
	}
	for _, c := range []Compression{None, Gzip, XZ, Zstd} {
		p, err := New(tarOf("./control", "Package: x\n"), tarOf("./usr/bin/x", "x"), c, 0)
		if err != nil {
			f.Fatal(err)
		}
		var b bytes.Buffer
		if err := p.Write(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		p.ControlFiles()
		p.WalkData(func(h *tar.Header, r io.Reader) error {
			_, err := io.Copy(io.Discard, io.LimitReader(r, 1<<20))
			return err
		})
		var b bytes.Buffer
		if err := p.Write(&b); err != nil {
			t.Fatalf("a package that reads does not write: %v", err)
		}
		again, err := Read(&b)
		if err != nil || len(again.Members) != len(p.Members) || again.ControlName() != p.ControlName() || again.DataName() != p.DataName() {
			t.Fatalf("written package reads back as %v, %v", again, err)
		}
	})
}
