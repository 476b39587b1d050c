package debarchive

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sum is one file's entry in a Release file: its size and its digests by
// checksum field name ("MD5Sum", "SHA256", ...), lower-case hex.
type Sum struct {
	Size    int64
	Digests map[string]string
}

// ChecksumFields are the Release fields that list files, weakest first.
var ChecksumFields = []string{"MD5Sum", "SHA1", "SHA256", "SHA512"}

// Release is a parsed Release file: its fields and the files it lists.
type Release struct {
	Fields Paragraph
	Files  map[string]Sum // path relative to the suite's directory
}

// ParseRelease parses a Release file (the signed text of InRelease).
func ParseRelease(b []byte) (*Release, error) {
	p, err := ParseParagraph(b)
	if err != nil {
		return nil, fmt.Errorf("Release: %w", err)
	}
	r := &Release{Files: map[string]Sum{}}
	for _, f := range p {
		field := checksumField(f.Name)
		if field == "" {
			r.Fields = append(r.Fields, f)
			continue
		}
		for _, l := range strings.Split(f.Raw, "\n") {
			fs := strings.Fields(l)
			if len(fs) == 0 {
				continue
			}
			if len(fs) != 3 {
				return nil, fmt.Errorf("Release: %s: line %q: want DIGEST SIZE PATH", f.Name, l)
			}
			size, err := strconv.ParseInt(fs[1], 10, 64)
			if err != nil || size < 0 {
				return nil, fmt.Errorf("Release: %s: %s: size %q", f.Name, fs[2], fs[1])
			}
			s, ok := r.Files[fs[2]]
			if !ok {
				s = Sum{Size: size, Digests: map[string]string{}}
			} else if s.Size != size {
				return nil, fmt.Errorf("Release: %s: size %d in %s, %d before", fs[2], size, f.Name, s.Size)
			}
			s.Digests[field] = strings.ToLower(fs[0])
			r.Files[fs[2]] = s
		}
	}
	return r, nil
}

func checksumField(name string) string {
	for _, c := range ChecksumFields {
		if strings.EqualFold(c, name) {
			return c
		}
	}
	return ""
}

// Strongest is the strongest digest the entry has, with its field name.
func (s Sum) Strongest() (field, digest string) {
	for i := len(ChecksumFields) - 1; i >= 0; i-- {
		if d, ok := s.Digests[ChecksumFields[i]]; ok {
			return ChecksumFields[i], d
		}
	}
	return "", ""
}

// ValidUntil is the Valid-Until time, zero when the Release has none.
func (r *Release) ValidUntil() (time.Time, error) {
	v := r.Fields.Value("Valid-Until")
	if v == "" {
		return time.Time{}, nil
	}
	return ParseDate(v)
}

// ParseDate parses a Release date (RFC 1123 with a numeric or UTC zone).
func ParseDate(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not RFC 1123", v)
}

// FormatDate formats t as Release files do ("Sat, 10 Jun 2023 08:53:33 UTC").
func FormatDate(t time.Time) string {
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 UTC")
}

// Bytes is the Release file: its fields, then one list per checksum field
// in written (for example MD5Sum and SHA256), files sorted by path.
func (r *Release) Bytes(written ...string) []byte {
	p := r.Fields.Clone()
	paths := make([]string, 0, len(r.Files))
	width := 0
	for path, s := range r.Files {
		paths = append(paths, path)
		width = max(width, len(strconv.FormatInt(s.Size, 10)))
	}
	sort.Strings(paths)
	for _, field := range written {
		var b strings.Builder
		for _, path := range paths {
			s := r.Files[path]
			if d, ok := s.Digests[field]; ok {
				fmt.Fprintf(&b, "\n %s %*d %s", d, width, s.Size, path)
			}
		}
		p = append(p, Field{field, b.String()})
	}
	return p.AppendTo(nil)
}
