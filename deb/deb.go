package deb

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrFormat is wrapped by every error about a malformed .deb.
var ErrFormat = errors.New("not a valid .deb")

// Package is a .deb held in memory: its ar members, with the control and
// data members located.
type Package struct {
	Members []Member
	control int // index of control.tar*
	data    int // index of data.tar*
	// ControlCompression and DataCompression come from the member names.
	ControlCompression, DataCompression Compression
}

// ReadFile reads a .deb; errors name the file.
func ReadFile(path string) (*Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Read reads a .deb and checks its member order.
func Read(r io.Reader) (*Package, error) {
	ms, err := ReadAr(r)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 || ms[0].Name != "debian-binary" {
		return nil, fmt.Errorf("first ar member is not debian-binary: %w", ErrFormat)
	}
	if !bytes.HasPrefix(ms[0].Data, []byte("2.")) {
		return nil, fmt.Errorf("debian-binary: format %q, want 2.x: %w", strings.TrimSpace(string(ms[0].Data)), ErrFormat)
	}
	p := &Package{Members: ms, control: -1, data: -1}
	for i, m := range ms[1:] {
		if c, ok, err := splitMember(m.Name, "control.tar"); err != nil {
			return nil, err
		} else if ok && p.control < 0 {
			p.control, p.ControlCompression = i+1, c
			continue
		}
		if c, ok, err := splitMember(m.Name, "data.tar"); err != nil {
			return nil, err
		} else if ok && p.data < 0 {
			if p.control < 0 {
				return nil, fmt.Errorf("member %s comes before control.tar: %w", m.Name, ErrFormat)
			}
			p.data, p.DataCompression = i+1, c
		}
	}
	switch {
	case p.control < 0:
		return nil, fmt.Errorf("missing control.tar member: %w", ErrFormat)
	case p.data < 0:
		return nil, fmt.Errorf("missing data.tar member: %w", ErrFormat)
	}
	return p, nil
}

// ControlName and DataName are the members' names.
func (p *Package) ControlName() string { return p.Members[p.control].Name }

// DataName is the data member's name.
func (p *Package) DataName() string { return p.Members[p.data].Name }

// DataSize is the compressed size of data.tar.
func (p *Package) DataSize() int64 { return int64(len(p.Members[p.data].Data)) }

// File is one tar entry with its content (regular files only).
type File struct {
	Header *tar.Header
	Data   []byte
}

// Name returns the entry's path without "./" ("postinst", "usr/bin/x").
func (f File) Name() string { return CleanName(f.Header.Name) }

// CleanName strips a tar name's leading "./" and "/" and a trailing "/".
func CleanName(n string) string {
	n = strings.TrimPrefix(n, "./")
	return strings.Trim(n, "/")
}

// MaxControlFile bounds one control.tar member read into memory: control
// files are small, and a compressed member may expand a thousandfold.
const MaxControlFile = 64 << 20

// ControlFiles returns every entry of control.tar.
func (p *Package) ControlFiles() ([]File, error) {
	var fs []File
	err := p.walk(p.control, p.ControlCompression, func(h *tar.Header, r io.Reader) error {
		f := File{Header: h}
		if h.Typeflag == tar.TypeReg {
			if h.Size > MaxControlFile {
				return fmt.Errorf("%d bytes, more than a control file may hold (%d)", h.Size, MaxControlFile)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			f.Data = b
		}
		fs = append(fs, f)
		return nil
	})
	return fs, err
}

// WalkData calls fn for every entry of data.tar in order; r reads a
// regular file's content.
func (p *Package) WalkData(fn func(h *tar.Header, r io.Reader) error) error {
	return p.walk(p.data, p.DataCompression, fn)
}

func (p *Package) walk(i int, c Compression, fn func(*tar.Header, io.Reader) error) error {
	m := p.Members[i]
	zr, err := c.Reader(m.Data)
	if err != nil {
		return fmt.Errorf("member %s: decompress: %v: %w", m.Name, err, ErrFormat)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return fmt.Errorf("member %s: empty tar: %w", m.Name, ErrFormat)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("member %s: bad tar entry %d: %v: %w", m.Name, n+1, err, ErrFormat)
		}
		if err := fn(h, tr); err != nil {
			var fe *fnError
			if errors.As(err, &fe) {
				return fe.err
			}
			return fmt.Errorf("member %s: %s: %v: %w", m.Name, h.Name, err, ErrFormat)
		}
	}
}

// fnError carries a callback's own error out of walk unwrapped.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }

// Stop wraps an error of a WalkData callback that is not about the archive.
func Stop(err error) error { return &fnError{err} }

// SetControl replaces control.tar with these entries, in the member's
// original compression.
func (p *Package) SetControl(fs []File) error {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range fs {
		h := *f.Header
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(&h); err != nil {
			return fmt.Errorf("control.tar: %s: %w", h.Name, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("control.tar: %s: %w", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	z, err := p.ControlCompression.Compress(b.Bytes())
	if err != nil {
		return fmt.Errorf("compress %s: %w", p.ControlName(), err)
	}
	p.Members[p.control].Data = z
	return nil
}

// Write writes the package as a .deb.
func (p *Package) Write(w io.Writer) error { return WriteAr(w, p.Members) }

// New builds a package from control and data tar contents (uncompressed),
// compressing both with c.
func New(control, data []byte, c Compression, mtime int64) (*Package, error) {
	cz, err := c.Compress(control)
	if err != nil {
		return nil, err
	}
	dz, err := c.Compress(data)
	if err != nil {
		return nil, err
	}
	return &Package{
		Members: []Member{
			{Name: "debian-binary", Mtime: mtime, Data: []byte("2.0\n")},
			{Name: "control.tar" + string(c), Mtime: mtime, Data: cz},
			{Name: "data.tar" + string(c), Mtime: mtime, Data: dz},
		},
		control: 1, data: 2, ControlCompression: c, DataCompression: c,
	}, nil
}
