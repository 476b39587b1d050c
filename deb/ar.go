package deb

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const (
	arMagic     = "!<arch>\n"
	arHeaderLen = 60
)

// ErrCorrupt is wrapped by every error about a malformed package.
var ErrCorrupt = errors.New("corrupt .deb")

// Member is one ar member with its header fields.
type Member struct {
	Name     string
	Mtime    int64
	UID, GID int
	Mode     uint32
	Data     []byte
}

// parseAr splits an ar archive into its members.
func parseAr(b []byte) ([]Member, error) {
	if !bytes.HasPrefix(b, []byte(arMagic)) {
		return nil, fmt.Errorf("%w: not an ar archive (no %q header)", ErrCorrupt, strings.TrimSpace(arMagic))
	}
	var ms []Member
	off := len(arMagic)
	for off < len(b) {
		if len(b)-off < arHeaderLen {
			return nil, fmt.Errorf("%w: member %d: truncated header (%d of %d bytes at offset %d)", ErrCorrupt, len(ms)+1, len(b)-off, arHeaderLen, off)
		}
		h := b[off : off+arHeaderLen]
		if string(h[58:60]) != "`\n" {
			return nil, fmt.Errorf("%w: member %d: bad header terminator at offset %d", ErrCorrupt, len(ms)+1, off)
		}
		name := strings.TrimSuffix(strings.TrimRight(string(h[0:16]), " "), "/")
		field := func(what string, s []byte, base int) (int64, error) {
			t := strings.TrimSpace(string(s))
			if t == "" {
				return 0, nil
			}
			v, err := strconv.ParseInt(t, base, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("%w: member %q: bad %s field %q", ErrCorrupt, name, what, t)
			}
			return v, nil
		}
		mtime, err := field("mtime", h[16:28], 10)
		if err != nil {
			return nil, err
		}
		uid, err := field("uid", h[28:34], 10)
		if err != nil {
			return nil, err
		}
		gid, err := field("gid", h[34:40], 10)
		if err != nil {
			return nil, err
		}
		mode, err := field("mode", h[40:48], 8)
		if err != nil {
			return nil, err
		}
		size, err := field("size", h[48:58], 10)
		if err != nil {
			return nil, err
		}
		off += arHeaderLen
		if size > int64(len(b)-off) {
			return nil, fmt.Errorf("%w: member %q: truncated (%d of %d bytes)", ErrCorrupt, name, len(b)-off, size)
		}
		ms = append(ms, Member{Name: name, Mtime: mtime, UID: int(uid), GID: int(gid), Mode: uint32(mode), Data: b[off : off+int(size)]})
		off += int(size)
		if size%2 == 1 && off < len(b) {
			off++
		}
	}
	return ms, nil
}

// writeAr encodes members as an ar archive.
func writeAr(ms []Member) ([]byte, error) {
	n := len(arMagic)
	for _, m := range ms {
		n += arHeaderLen + len(m.Data) + len(m.Data)%2
	}
	var b bytes.Buffer
	b.Grow(n)
	b.WriteString(arMagic)
	for _, m := range ms {
		if len(m.Name) > 16 {
			return nil, fmt.Errorf("ar member name %q is longer than 16 bytes", m.Name)
		}
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", m.Name, m.Mtime, m.UID, m.GID, m.Mode, len(m.Data))
		b.Write(m.Data)
		if len(m.Data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), nil
}
