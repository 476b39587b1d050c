package policygen

import (
	"bytes"
	"strings"
)

// Token is one word of a rule as the kernel splits it (on spaces and tabs).
type Token struct {
	Text   string
	Column int // 1-based byte column in the source line
}

// Rule is one policy line that is not a comment or blank.
type Rule struct {
	File string
	Line int // 1-based
	// Tokens are the words of the rule, in order: order matters to the
	// kernel (template= after the action, digest_type= before sigv3).
	Tokens []Token
	// Comment is an inline "# ..." after the rule, or nil. The kernel
	// ignores it from 6.14 and refuses the rule before.
	Comment *Token
}

// Canonical is the text written to the kernel for this rule (without the
// trailing newline): the words separated by one space, no inline comment.
// It parses to the same rule as the source line.
func (r Rule) Canonical() string {
	var b strings.Builder
	for i, t := range r.Tokens {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Text)
	}
	return b.String()
}

// WithComment is the source line as the kernel would see it if written
// as is: the words and, if any, the inline comment.
func (r Rule) WithComment() string {
	s := r.Canonical()
	if r.Comment != nil {
		s += " " + r.Comment.Text
	}
	return s
}

// ReadPolicy splits a policy file into rules. It drops comment lines and
// blank lines (as the kernel does), and refuses lines the kernel would
// misread: a carriage return (a CRLF file) or a NUL byte. Grammar is left
// to Check.
func ReadPolicy(name string, src []byte) ([]Rule, []Diagnostic) {
	var rules []Rule
	var diags []Diagnostic
	lineNo := 0
	for len(src) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			line, src = src, nil
		}
		if i := bytes.IndexByte(line, '\r'); i >= 0 {
			d := Diagnostic{File: name, Line: lineNo, Column: i + 1, Severity: Error, Code: CodeCRLF,
				Message: "carriage return in line (a CRLF file?): the kernel takes it as part of the last word and refuses the rule; convert the file to LF line endings"}
			switch trimmed := bytes.TrimLeft(line, " \t"); {
			case trimmed[0] == '#':
				// The kernel skips comment lines whatever they hold.
				d.Severity = Warning
				d.Message = "carriage return in a comment line (a CRLF file?): harmless here, but the file's rule lines will be refused; convert it to LF line endings"
			case len(bytes.Trim(line, " \t\r")) == 0:
				d.Message = "carriage return on an otherwise blank line (a CRLF file?): the kernel reads it as a word and refuses it; convert the file to LF line endings"
			}
			diags = append(diags, d)
			continue
		}
		if i := bytes.IndexByte(line, 0); i >= 0 {
			diags = append(diags, Diagnostic{File: name, Line: lineNo, Column: i + 1, Severity: Error, Code: CodeNUL,
				Message: "NUL byte in line: the kernel stops reading the rule there"})
			continue
		}
		tokens, comment := splitLine(string(line))
		if len(tokens) == 0 {
			continue // blank or comment line
		}
		rules = append(rules, Rule{File: name, Line: lineNo, Tokens: tokens, Comment: comment})
	}
	return rules, diags
}

// splitLine splits a line into words the way ima_parse_rule does (strsep
// on space and tab). A line whose first word starts with '#' is a comment
// (no tokens); a later word starting with '#' begins an inline comment,
// which runs to the end of the line.
func splitLine(line string) ([]Token, *Token) {
	var tokens []Token
	i := 0
	for i < len(line) {
		if line[i] == ' ' || line[i] == '\t' {
			i++
			continue
		}
		start := i
		if line[i] == '#' {
			if len(tokens) == 0 {
				return nil, nil
			}
			text := strings.TrimRight(line[i:], " \t")
			return tokens, &Token{Text: text, Column: start + 1}
		}
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		tokens = append(tokens, Token{Text: line[start:i], Column: start + 1})
	}
	return tokens, nil
}
