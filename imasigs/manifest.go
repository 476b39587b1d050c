package imasigs

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/imaboot/imaboot/relabel"
)

// ControlMember is the manifest's name in control.tar and the suffix of
// its copy in dpkg's info directory.
const ControlMember = "imasigs"

// Version is the format version this package writes and reads.
const Version = 1

// ControlPrefix starts the path of an entry for a control member.
const ControlPrefix = "DEBIAN/"

const header = "imasigs"

// Entry is one signed file.
type Entry struct {
	Path   string           // "/usr/bin/x" or "DEBIAN/postinst"
	Algo   relabel.HashAlgo // the digest's algorithm
	Digest []byte           // the content hash
	Label  []byte           // the security.ima value to write
}

// IsControl reports whether the entry names a control member, and which.
func (e Entry) IsControl() (string, bool) {
	if strings.HasPrefix(e.Path, ControlPrefix) {
		return e.Path[len(ControlPrefix):], true
	}
	return "", false
}

// Manifest is a package's list of signed files.
type Manifest struct {
	Entries []Entry // sorted by Path
}

// ErrSyntax is wrapped by every parse error; the message names the line.
var ErrSyntax = errors.New("imasigs: malformed manifest")

// Lookup returns the entry for path.
func (m *Manifest) Lookup(path string) (Entry, bool) {
	i := sort.Search(len(m.Entries), func(i int) bool { return m.Entries[i].Path >= path })
	if i < len(m.Entries) && m.Entries[i].Path == path {
		return m.Entries[i], true
	}
	return Entry{}, false
}

// ValidPath reports why a path cannot be an entry's, or nil.
func ValidPath(p string) error {
	switch {
	case strings.ContainsAny(p, "\n\r"):
		return fmt.Errorf("path %q holds a newline or carriage return", p)
	case strings.HasPrefix(p, ControlPrefix):
		if n := p[len(ControlPrefix):]; n == "" || strings.Contains(n, "/") {
			return fmt.Errorf("control path %q names no single member", p)
		}
	case !strings.HasPrefix(p, "/") || p == "/":
		return fmt.Errorf("path %q is neither absolute nor %sNAME", p, ControlPrefix)
	}
	return nil
}

// check validates one entry.
func (e Entry) check() error {
	if err := ValidPath(e.Path); err != nil {
		return err
	}
	if e.Algo.Size() == 0 || len(e.Digest) != e.Algo.Size() {
		return fmt.Errorf("%s: %s digest of %d bytes", e.Path, e.Algo, len(e.Digest))
	}
	l, err := relabel.ParseLabel(e.Label)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Path, err)
	}
	if l.Type != relabel.TypeSignature {
		return fmt.Errorf("%s: label is a %s, not an IMA signature", e.Path, l.Type)
	}
	if l.Algo != e.Algo {
		return fmt.Errorf("%s: signature over %s, digest in %s", e.Path, l.Algo, e.Algo)
	}
	return nil
}

// Sort orders the entries by path and refuses duplicates and invalid ones.
func (m *Manifest) Sort() error {
	sort.Slice(m.Entries, func(i, j int) bool { return m.Entries[i].Path < m.Entries[j].Path })
	for i, e := range m.Entries {
		if err := e.check(); err != nil {
			return err
		}
		if i > 0 && m.Entries[i-1].Path == e.Path {
			return fmt.Errorf("path %s listed twice", e.Path)
		}
	}
	return nil
}

// Marshal returns the manifest's bytes after sorting and checking it.
func (m *Manifest) Marshal() ([]byte, error) {
	if err := m.Sort(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# IMA signatures for the files of this package (imaboot-debsign)\n%s %d\n", header, Version)
	for _, e := range m.Entries {
		fmt.Fprintf(&b, "%s:%x %x %s\n", e.Algo, e.Digest, e.Label, e.Path)
	}
	return b.Bytes(), nil
}

// Parse reads a manifest; errors wrap ErrSyntax and name the line.
func Parse(r io.Reader) (*Manifest, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(splitLF) // ScanLines would drop a "\r": a CRLF file is refused, not read
	m := &Manifest{}
	seenHeader := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !seenHeader {
			var v int
			if _, err := fmt.Sscanf(line, header+" %d", &v); err != nil || line != fmt.Sprintf("%s %d", header, v) {
				return nil, fmt.Errorf("%w: line %d: want the header %q, got %q", ErrSyntax, n, fmt.Sprintf("%s %d", header, Version), clip(line))
			}
			if v != Version {
				return nil, fmt.Errorf("%w: line %d: version %d (this imaboot reads version %d)", ErrSyntax, n, v, Version)
			}
			seenHeader = true
			continue
		}
		e, err := parseEntry(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrSyntax, n, err)
		}
		if k := len(m.Entries); k > 0 && m.Entries[k-1].Path >= e.Path {
			return nil, fmt.Errorf("%w: line %d: %s is out of order or listed twice", ErrSyntax, n, e.Path)
		}
		m.Entries = append(m.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if !seenHeader {
		return nil, fmt.Errorf("%w: no %q header", ErrSyntax, header)
	}
	return m, nil
}

func parseEntry(line string) (Entry, error) {
	f := strings.SplitN(line, " ", 3)
	if len(f) != 3 {
		return Entry{}, fmt.Errorf("want \"ALGO:DIGEST LABEL PATH\", got %q", clip(line))
	}
	algoName, digestHex, ok := strings.Cut(f[0], ":")
	if !ok {
		return Entry{}, fmt.Errorf("digest %q has no ALGO: prefix", clip(f[0]))
	}
	algo, err := relabel.ParseHashAlgo(algoName)
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	e.Path, e.Algo = f[2], algo
	if e.Digest, err = hex.DecodeString(digestHex); err != nil {
		return Entry{}, fmt.Errorf("digest: %v", err)
	}
	if e.Label, err = hex.DecodeString(f[1]); err != nil {
		return Entry{}, fmt.Errorf("label: %v", err)
	}
	if err := e.check(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// splitLF splits at "\n" only.
func splitLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
