package deb

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	arMagic      = "!<arch>\n"
	arHeaderSize = 60
)

// Member is one ar member, its content held in memory.
type Member struct {
	Name  string
	Mtime int64
	UID   int
	GID   int
	Mode  uint32
	Data  []byte
}

// ReadAr reads every member of an ar archive; errors name the member and the reason.
func ReadAr(r io.Reader) ([]Member, error) {
	magic := make([]byte, len(arMagic))
	if _, err := io.ReadFull(r, magic); err != nil {
		return nil, fmt.Errorf("ar: truncated before the %q magic: %w", strings.TrimSpace(arMagic), ErrFormat)
	}
	if string(magic) != arMagic {
		return nil, fmt.Errorf("ar: no %q magic (not a .deb): %w", strings.TrimSpace(arMagic), ErrFormat)
	}
	var ms []Member
	for i := 0; ; i++ {
		var h [arHeaderSize]byte
		n, err := io.ReadFull(r, h[:])
		if n == 0 && err == io.EOF {
			return ms, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ar member %d: truncated header (%d of %d bytes): %w", i+1, n, arHeaderSize, ErrFormat)
		}
		m, size, err := parseArHeader(h)
		if err != nil {
			return nil, fmt.Errorf("ar member %d: bad header: %v: %w", i+1, err, ErrFormat)
		}
		// Read what is there, never allocate what the header claims: a
		// 60-byte file may claim 10 GB.
		var data bytes.Buffer
		if n, err := io.Copy(&data, io.LimitReader(r, size)); err != nil || n != size {
			return nil, fmt.Errorf("ar member %s: truncated (%d of %d bytes): %w", m.Name, n, size, ErrFormat)
		}
		m.Data = data.Bytes()
		if size%2 == 1 {
			var pad [1]byte
			// The last member's padding may be missing (ar tools differ).
			if _, err := io.ReadFull(r, pad[:]); err != nil && err != io.EOF {
				return nil, fmt.Errorf("ar member %s: padding: %v: %w", m.Name, err, ErrFormat)
			}
		}
		ms = append(ms, m)
	}
}

func parseArHeader(h [arHeaderSize]byte) (Member, int64, error) {
	if string(h[58:60]) != "`\n" {
		return Member{}, 0, fmt.Errorf("header end %q, want \"`\\n\"", h[58:60])
	}
	field := func(a, b int) string { return strings.TrimRight(string(h[a:b]), " ") }
	m := Member{Name: strings.TrimSuffix(field(0, 16), "/")}
	if m.Name == "" || strings.ContainsAny(m.Name, "/\x00") {
		return Member{}, 0, fmt.Errorf("member name %q", field(0, 16))
	}
	num := func(what string, a, b, base int) (int64, error) {
		s := field(a, b)
		if s == "" {
			return 0, nil
		}
		v, err := strconv.ParseInt(s, base, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s %s field %q", m.Name, what, s)
		}
		return v, nil
	}
	var err error
	var v [4]int64
	for i, f := range []struct {
		what       string
		a, b, base int
	}{{"mtime", 16, 28, 10}, {"uid", 28, 34, 10}, {"gid", 34, 40, 10}, {"mode", 40, 48, 8}} {
		if v[i], err = num(f.what, f.a, f.b, f.base); err != nil {
			return Member{}, 0, err
		}
	}
	m.Mtime, m.UID, m.GID, m.Mode = v[0], int(v[1]), int(v[2]), uint32(v[3])
	if field(48, 58) == "" {
		return Member{}, 0, fmt.Errorf("%s has no size", m.Name)
	}
	size, err := num("size", 48, 58, 10)
	if err != nil {
		return Member{}, 0, err
	}
	return m, size, nil
}

// WriteAr writes members as an ar archive the way dpkg-deb does (names
// without a trailing slash, even padding with "\n").
func WriteAr(w io.Writer, ms []Member) error {
	var b bytes.Buffer
	b.WriteString(arMagic)
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	for _, m := range ms {
		if len(m.Name) > 16 || m.Name == "" {
			return fmt.Errorf("ar member name %q does not fit 16 bytes", m.Name)
		}
		mode := m.Mode
		if mode == 0 {
			mode = 0o100644
		}
		h := fmt.Sprintf("%-16s%-12d%-6d%-6d%-8o%-10d`\n", m.Name, m.Mtime, m.UID, m.GID, mode, len(m.Data))
		if len(h) != arHeaderSize {
			return fmt.Errorf("ar member %s: header fields overflow", m.Name)
		}
		if _, err := io.WriteString(w, h); err != nil {
			return err
		}
		if _, err := w.Write(m.Data); err != nil {
			return err
		}
		if len(m.Data)%2 == 1 {
			if _, err := w.Write([]byte{'\n'}); err != nil {
				return err
			}
		}
	}
	return nil
}
