package policygen

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzParse reads arbitrary bytes as a policy. Nothing may panic, every
// position must lie on its line, and every rule a kernel version accepts
// must print (Canonical) to a line that reads back as one rule with the
// same meaning. Seeds: testdata/fuzz/FuzzParse plus the oracle corpus.
func FuzzParse(f *testing.F) {
	for _, r := range OracleCorpus()[:200] {
		f.Add([]byte(r + "\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, diags := ReadPolicy("fuzz", data)
		lines := strings.Split(string(data), "\n")
		for _, v := range []KernelVersion{Kernel61, Kernel612, Kernel72} {
			all := append(append([]Diagnostic(nil), diags...), Check(rules, v, nil)...)
			for _, d := range all {
				if d.Line < 0 || d.Line > len(lines) || d.Column < 0 || (d.Line > 0 && d.Column > len(lines[d.Line-1])+1) {
					t.Fatalf("Linux %s: diagnostic outside the source: %v (line %q)", v, d, lineAt(lines, d.Line))
				}
			}
			for _, r := range rules {
				e, found := emulate(r.Tokens, r.Comment, v, nil)
				if firstError(found) != nil {
					continue
				}
				canon := r.Canonical()
				again, d2 := ReadPolicy("canonical", []byte(canon+"\n"))
				if len(d2) != 0 || len(again) != 1 {
					t.Fatalf("Linux %s: canonical %q of line %d reads back as %d rules, %v", v, canon, r.Line, len(again), d2)
				}
				e2, found2 := emulate(again[0].Tokens, again[0].Comment, v, nil)
				if f := firstError(found2); f != nil {
					t.Fatalf("Linux %s: %q accepted but its canonical form %q refused: %s", v, r.WithComment(), canon, f.msg)
				}
				if e.meaning() != e2.meaning() {
					t.Fatalf("Linux %s: meaning changed\n%q: %s\n%q: %s", v, r.WithComment(), e.meaning(), canon, e2.meaning())
				}
				if p := Predict(canon, v, nil); !p.Accept {
					t.Fatalf("Linux %s: Check accepts %q, Predict refuses it: %s", v, canon, p.Reason)
				}
			}
		}
		for _, line := range lines {
			_ = Predict(line, Kernel61, nil)
		}
		_ = Explain(rules, Kernel612, nil)
	})
}

func lineAt(lines []string, n int) string {
	if n < 1 || n > len(lines) {
		return fmt.Sprintf("<no line %d>", n)
	}
	return lines[n-1]
}

// BenchmarkCheck10000Rules checks a policy of 10,000 distinct rules, the
// accepted corpus rules varied by uid, for Linux 6.12.
func BenchmarkCheck10000Rules(b *testing.B) {
	var base []string
	for _, r := range OracleCorpus() {
		if Predict(r, Kernel612, nil).Accept && r != "" && !strings.HasPrefix(strings.TrimSpace(r), "#") && !strings.Contains(r, "uid") {
			base = append(base, r)
		}
	}
	var src strings.Builder
	for i := 0; i < 10000; i++ {
		r := base[i%len(base)]
		if !strings.Contains(r, "func=KEY_CHECK") && !strings.Contains(r, "func=CRITICAL_DATA") && !strings.Contains(r, "SETXATTR") {
			r += fmt.Sprintf(" uid=%d", i)
		}
		src.WriteString(r + "\n")
	}
	rules, diags := ReadPolicy("bench", []byte(src.String()))
	if len(rules) != 10000 || len(diags) != 0 {
		b.Fatalf("%d rules, %v", len(rules), diags)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Check(rules, Kernel612, nil)
	}
}
