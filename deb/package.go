package deb

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Package is a parsed .deb: its members in order, with the control and
// data members found.
type Package struct {
	Members []Member
	control int // index of control.tar.*
	data    int // index of data.tar.*
}

// Parse checks a .deb's ar structure and finds its members. The data is not
// copied: Package refers to b.
func Parse(b []byte) (*Package, error) {
	ms, err := parseAr(b)
	if err != nil {
		return nil, err
	}
	p := &Package{Members: ms, control: -1, data: -1}
	if len(ms) == 0 || ms[0].Name != "debian-binary" {
		return nil, fmt.Errorf("%w: the first member is not debian-binary", ErrCorrupt)
	}
	if v := string(ms[0].Data); !strings.HasPrefix(v, "2.") {
		return nil, fmt.Errorf("%w: debian-binary says format %q (want 2.x)", ErrCorrupt, strings.TrimSpace(v))
	}
	for i, m := range ms[1:] {
		switch {
		case strings.HasPrefix(m.Name, "control.tar"):
			if p.control >= 0 {
				return nil, fmt.Errorf("%w: two control members (%s, %s)", ErrCorrupt, ms[p.control].Name, m.Name)
			}
			p.control = i + 1
		case strings.HasPrefix(m.Name, "data.tar"):
			if p.data >= 0 {
				return nil, fmt.Errorf("%w: two data members (%s, %s)", ErrCorrupt, ms[p.data].Name, m.Name)
			}
			p.data = i + 1
		case strings.HasPrefix(m.Name, "_"):
		default:
			return nil, fmt.Errorf("%w: unexpected member %q", ErrCorrupt, m.Name)
		}
	}
	switch {
	case p.control < 0:
		return nil, fmt.Errorf("%w: no control.tar member", ErrCorrupt)
	case p.data < 0:
		return nil, fmt.Errorf("%w: no data.tar member", ErrCorrupt)
	case p.data < p.control:
		return nil, fmt.Errorf("%w: data.tar comes before control.tar", ErrCorrupt)
	}
	return p, nil
}

// ControlMember and DataMember return the two tar members.
func (p *Package) ControlMember() *Member { return &p.Members[p.control] }
func (p *Package) DataMember() *Member    { return &p.Members[p.data] }

// Walk calls fn for every entry of the member's tar archive, with r reading
// the entry's content (regular files only). Errors name the member and entry.
func Walk(m *Member, fn func(h *tar.Header, name string, r io.Reader) error) error {
	dr, err := decompressor(m.Name, m.Data)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, m.Name, err)
	}
	if c, ok := dr.(io.Closer); ok {
		defer c.Close()
	}
	tr := tar.NewReader(dr)
	last := "(start)"
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s: after entry %s: %v", ErrCorrupt, m.Name, last, err)
		}
		last = h.Name
		if err := fn(h, h.Name, tr); err != nil {
			var ce *contentError
			if errors.As(err, &ce) {
				return fmt.Errorf("%w: %s: entry %s: %v", ErrCorrupt, m.Name, h.Name, ce.err)
			}
			return err
		}
	}
}

// contentError marks a read error inside an entry (a corrupt stream).
type contentError struct{ err error }

func (e *contentError) Error() string { return e.err.Error() }

// ReadEntry reads an entry's content; a failure is reported as corruption
// of the archive by Walk.
func ReadEntry(r io.Reader, buf *bytes.Buffer) error {
	buf.Reset()
	if _, err := io.Copy(buf, r); err != nil {
		return &contentError{err}
	}
	return nil
}

// CopyEntry streams an entry's content into w (a hash), reporting read
// failures as corruption.
func CopyEntry(w io.Writer, r io.Reader, buf []byte) (int64, error) {
	n, err := io.CopyBuffer(w, struct{ io.Reader }{r}, buf)
	if err != nil {
		return n, &contentError{err}
	}
	return n, nil
}

// ControlFile is one file of control.tar.
type ControlFile struct {
	Header *tar.Header
	Name   string // "control", "postinst", ...
	Data   []byte
}

// ControlFiles reads every entry of control.tar, in order (directories too,
// with Name "" for "./").
func (p *Package) ControlFiles() ([]ControlFile, error) {
	var out []ControlFile
	var buf bytes.Buffer
	err := Walk(p.ControlMember(), func(h *tar.Header, name string, r io.Reader) error {
		cf := ControlFile{Header: h, Name: strings.TrimPrefix(path.Clean("/"+name), "/")}
		if h.Typeflag == tar.TypeReg {
			if err := ReadEntry(r, &buf); err != nil {
				return err
			}
			cf.Data = append([]byte(nil), buf.Bytes()...)
		}
		out = append(out, cf)
		return nil
	})
	if err != nil {
		return nil, err
	}
	found := false
	for _, cf := range out {
		found = found || (cf.Name == "control" && cf.Header.Typeflag == tar.TypeReg)
	}
	if !found {
		return nil, fmt.Errorf("%w: %s has no control file", ErrCorrupt, p.ControlMember().Name)
	}
	return out, nil
}

// DataPath is the installed path of a data.tar entry name ("./usr/bin/x"
// -> "/usr/bin/x").
func DataPath(name string) string { return path.Clean("/" + name) }

// WithControl returns the package's bytes with control.tar replaced by a
// gzip-compressed archive of files (in order): data.tar and every other
// member are copied byte for byte.
func (p *Package) WithControl(files []ControlFile) ([]byte, error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, f := range files {
		h := *f.Header
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(&h); err != nil {
			return nil, fmt.Errorf("control.tar: %s: %w", f.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, fmt.Errorf("control.tar: %s: %w", f.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	ms := append([]Member(nil), p.Members...)
	old := ms[p.control]
	ms[p.control] = Member{Name: "control.tar.gz", Mtime: old.Mtime, Mode: 0o100644, Data: gzipBytes(tb.Bytes())}
	return writeAr(ms)
}
