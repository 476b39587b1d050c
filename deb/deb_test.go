package deb

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, n := range []string{"./control", "./usr/bin/x"} {
		if body, ok := files[n]; ok {
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o755, Size: int64(len(body))})
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	return b.Bytes()
}

func TestRoundTripEveryCompression(t *testing.T) {
	for _, c := range []Compression{None, Gzip, XZ, Zstd} {
		p, err := New(tarOf(t, map[string]string{"./control": "Package: x\n"}), tarOf(t, map[string]string{"./usr/bin/x": "odd"}), c, 1)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := p.Write(&b); err != nil {
			t.Fatal(err)
		}
		q, err := Read(&b)
		if err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		if q.DataName() != "data.tar"+string(c) || q.DataCompression != c {
			t.Errorf("%q: data member %s", c, q.DataName())
		}
		var got string
		q.WalkData(func(h *tar.Header, r io.Reader) error {
			b, _ := io.ReadAll(r)
			got += h.Name + "=" + string(b)
			return nil
		})
		if got != "./usr/bin/x=odd" {
			t.Errorf("%q: data %q", c, got)
		}
		if err := q.SetControl([]File{{Header: &tar.Header{Typeflag: tar.TypeReg, Name: "./control", Mode: 0o644}, Data: []byte("new\n")}}); err != nil {
			t.Fatal(err)
		}
		fs, err := q.ControlFiles()
		if err != nil || len(fs) != 1 || string(fs[0].Data) != "new\n" || fs[0].Name() != "control" {
			t.Errorf("%q: control after SetControl: %+v %v", c, fs, err)
		}
	}
}

func TestArOddPaddingAndSlashNames(t *testing.T) {
	var b bytes.Buffer
	WriteAr(&b, []Member{{Name: "a", Data: []byte("x")}, {Name: "b", Data: []byte("yz")}})
	if b.Len() != 8+60+2+60+2 {
		t.Errorf("archive of %d bytes, want even padding", b.Len())
	}
	raw := bytes.Replace(b.Bytes(), []byte("a               "), []byte("a/              "), 1) // GNU ar names
	ms, err := ReadAr(bytes.NewReader(raw))
	if err != nil || len(ms) != 2 || ms[0].Name != "a" || string(ms[1].Data) != "yz" {
		t.Fatalf("%+v %v", ms, err)
	}
}

func TestBadInputs(t *testing.T) {
	good, _ := New(tarOf(t, map[string]string{"./control": "c"}), tarOf(t, map[string]string{"./usr/bin/x": "d"}), Gzip, 1)
	var gb bytes.Buffer
	good.Write(&gb)
	badHeader := append([]byte(nil), gb.Bytes()...)
	copy(badHeader[8+58:], "xx")
	unknown := append([]Member(nil), good.Members...)
	unknown[2].Name = "data.tar.lz"
	var ub bytes.Buffer
	WriteAr(&ub, unknown)
	wrongFirst := []Member{good.Members[1], good.Members[0], good.Members[2]}
	var wb bytes.Buffer
	WriteAr(&wb, wrongFirst)
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"truncated member":    {gb.Bytes()[:gb.Len()-10], "ar member data.tar.gz: truncated"},
		"truncated header":    {gb.Bytes()[:8+30], "truncated header"},
		"bad header":          {badHeader, "bad header"},
		"unknown compression": {ub.Bytes(), `unknown compression ".lz"`},
		"debian-binary first": {wb.Bytes(), "first ar member is not debian-binary"},
		"not an ar":           {[]byte("PK\x03\x04 zip"), "magic"},
	} {
		_, err := Read(bytes.NewReader(tc.b))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want %q wrapping ErrFormat", name, err, tc.want)
		}
	}
	// A data.tar that does not decompress is named when it is walked.
	broken := append([]Member(nil), good.Members...)
	broken[2].Data = []byte("not gzip")
	var bb bytes.Buffer
	WriteAr(&bb, broken)
	p, err := Read(&bb)
	if err != nil {
		t.Fatal(err)
	}
	err = p.WalkData(func(*tar.Header, io.Reader) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "member data.tar.gz: decompress") {
		t.Errorf("walk of broken gzip: %v", err)
	}
}

// The system's xz and the Go decoder give the same bytes, and both report
// a corrupt stream as an error rather than a short read.
func TestXZToolAndGoAgree(t *testing.T) {
	if xzTool() == "" {
		t.Skip("no xz in PATH")
	}
	defer func() { UseXZTool = true }()
	plain := bytes.Repeat([]byte("imaboot xz member\n"), 50000)
	var out [2][]byte
	for i, tool := range []bool{true, false} {
		UseXZTool = tool
		z, err := XZ.Compress(plain)
		if err != nil {
			t.Fatal(err)
		}
		r, err := XZ.Reader(z)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = io.ReadAll(r); err != nil {
			t.Fatalf("tool=%v: %v", tool, err)
		}
		r.Close()
		bad := append([]byte(nil), z...)
		bad[len(bad)/2] ^= 0xff
		r, err = XZ.Reader(bad)
		if err == nil {
			_, err = io.ReadAll(r)
			r.Close()
		}
		if err == nil {
			t.Errorf("tool=%v: a corrupt xz stream read without error", tool)
		}
		// A reader closed before the end stops xz.
		r, _ = XZ.Reader(z)
		r.Read(make([]byte, 10))
		if err := r.Close(); err != nil {
			t.Errorf("tool=%v: early close: %v", tool, err)
		}
	}
	if !bytes.Equal(out[0], plain) || !bytes.Equal(out[1], plain) {
		t.Error("the decoders disagree")
	}
}

// An ar header may claim any size: a short file claiming 9,999,999,999
// bytes is refused as truncated without that much memory being asked for.
func TestArClaimedSizeIsNotAllocated(t *testing.T) {
	h := fmt.Sprintf("%-16s%-12s%-6s%-6s%-8s%-10s`\n", "debian-binary", "0", "0", "0", "100644", "9999999999")
	data := []byte("!<arch>\n" + h + "2.0\n")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadAr(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("err = %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("reading a %d-byte file allocated %d bytes", len(data), n)
	}
}
