package imasigs

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/imaboot/imaboot/relabel"
)

// FuzzParse reads arbitrary bytes as a manifest (it comes inside a
// package, from a mirror). Nothing may panic, and a manifest that parses
// writes back (Marshal) to bytes that parse to the same entries.
func FuzzParse(f *testing.F) {
	d := sha256.Sum256([]byte("x"))
	label := relabel.SignatureLabel(relabel.TypeSignature, relabel.AlgoSHA256, 0x01020304, []byte("sig"))
	m := &Manifest{Entries: []Entry{{Path: "/usr/bin/x", Algo: relabel.AlgoSHA256, Digest: d[:], Label: label},
		{Path: ControlPrefix + "postinst", Algo: relabel.AlgoSHA256, Digest: d[:], Label: label}}}
	good, err := m.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("imasigs 1\n"))
	f.Add([]byte("imasigs 2\nsha256:00 03 /x\n"))
	f.Add([]byte("# c\r\nimasigs 1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("a parsed manifest does not marshal: %v", err)
		}
		again, err := Parse(bytes.NewReader(out))
		if err != nil || len(again.Entries) != len(m.Entries) {
			t.Fatalf("marshalled manifest reads back as %v, %v", again, err)
		}
		for i, e := range m.Entries {
			g := again.Entries[i]
			if g.Path != e.Path || g.Algo != e.Algo || !bytes.Equal(g.Digest, e.Digest) || !bytes.Equal(g.Label, e.Label) {
				t.Fatalf("entry %d: %+v became %+v", i, e, g)
			}
		}
	})
}
