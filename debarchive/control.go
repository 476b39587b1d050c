package debarchive

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Field is one deb822 field. Raw is the text after the colon, continuation
// lines included, without the final newline: writing Name + ":" + Raw gives
// back the input byte for byte.
type Field struct{ Name, Raw string }

// Paragraph is one deb822 paragraph (a Packages stanza, a Release file), its
// fields in their original order.
type Paragraph []Field

// Value is the field's value with surrounding white space removed ("" when
// absent); field names are case-insensitive.
func (p Paragraph) Value(name string) string {
	for _, f := range p {
		if strings.EqualFold(f.Name, name) {
			return strings.TrimSpace(f.Raw)
		}
	}
	return ""
}

// Has reports whether the paragraph has the field.
func (p Paragraph) Has(name string) bool {
	for _, f := range p {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Set replaces the field's value, or appends the field.
func (p *Paragraph) Set(name, value string) {
	raw := " " + value
	if strings.HasPrefix(value, "\n") {
		raw = value // a multi-line value starting on the next line (checksum lists)
	}
	for i, f := range *p {
		if strings.EqualFold(f.Name, name) {
			(*p)[i].Raw = raw
			return
		}
	}
	*p = append(*p, Field{name, raw})
}

// Delete removes the field.
func (p *Paragraph) Delete(name string) {
	out := (*p)[:0]
	for _, f := range *p {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	*p = out
}

// Clone copies the paragraph so that Set on the copy leaves p alone.
func (p Paragraph) Clone() Paragraph { return append(Paragraph(nil), p...) }

// AppendTo appends the paragraph's text (each field on its line, no
// separating blank line) to b.
func (p Paragraph) AppendTo(b []byte) []byte {
	for _, f := range p {
		b = append(b, f.Name...)
		b = append(b, ':')
		b = append(b, f.Raw...)
		b = append(b, '\n')
	}
	return b
}

// ReadParagraphs calls fn for each paragraph of r in order. An error names
// the line.
func ReadParagraphs(r io.Reader, fn func(Paragraph) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var p Paragraph
	var cont strings.Builder
	flushField := func() {
		if len(p) > 0 && cont.Len() > 0 {
			p[len(p)-1].Raw += cont.String()
			cont.Reset()
		}
	}
	line := 0
	for sc.Scan() {
		line++
		l := sc.Bytes()
		if len(bytes.TrimSpace(l)) == 0 {
			flushField()
			if len(p) > 0 {
				if err := fn(p); err != nil {
					return err
				}
				p = nil
			}
			continue
		}
		switch l[0] {
		case ' ', '\t':
			if len(p) == 0 {
				return fmt.Errorf("line %d: continuation line outside a field", line)
			}
			cont.WriteByte('\n')
			cont.Write(l)
			continue
		case '#':
			continue // comments are allowed in deb822 files (not in Packages)
		}
		i := bytes.IndexByte(l, ':')
		if i <= 0 {
			return fmt.Errorf("line %d: %q is not a field (NAME: value)", line, truncate(string(l), 60))
		}
		flushField()
		p = append(p, Field{Name: string(l[:i]), Raw: string(l[i+1:])})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	flushField()
	if len(p) > 0 {
		return fn(p)
	}
	return nil
}

// ParseParagraph reads a file holding one paragraph (a Release file).
func ParseParagraph(b []byte) (Paragraph, error) {
	var out Paragraph
	n := 0
	err := ReadParagraphs(bytes.NewReader(b), func(p Paragraph) error {
		n++
		out = p
		return nil
	})
	if err == nil && n != 1 {
		err = fmt.Errorf("%d paragraphs, want one", n)
	}
	return out, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
