package imasigs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/relabel"
)

func sigLabel(n byte) []byte {
	return relabel.SignatureLabel(relabel.TypeSignature, relabel.AlgoSHA256, 0x11223344, bytes.Repeat([]byte{n}, 256))
}

func entry(path string) Entry {
	d := sha256.Sum256([]byte(path))
	return Entry{Path: path, Algo: relabel.AlgoSHA256, Digest: d[:], Label: sigLabel(byte(len(path)))}
}

func TestRoundTrip(t *testing.T) {
	m := &Manifest{Entries: []Entry{entry("/usr/bin/with space"), entry("DEBIAN/postinst"), entry("/usr/bin/a")}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(got.Entries) != 3 {
		t.Fatalf("%d entries", len(got.Entries))
	}
	for _, p := range []string{"/usr/bin/a", "/usr/bin/with space", "DEBIAN/postinst"} {
		want, _ := m.Lookup(p)
		e, ok := got.Lookup(p)
		if !ok || !bytes.Equal(e.Digest, want.Digest) || !bytes.Equal(e.Label, want.Label) || e.Algo != want.Algo {
			t.Errorf("%s: got %+v", p, e)
		}
	}
	if n, ok := got.Entries[2].IsControl(); !ok || n != "postinst" {
		t.Errorf("DEBIAN/postinst: IsControl = %q, %v", n, ok)
	}
	if _, ok := got.Lookup("/usr/bin/b"); ok {
		t.Error("Lookup found a path that is not there")
	}
	again, _ := got.Marshal()
	if !bytes.Equal(again, b) {
		t.Errorf("second marshal differs:\n%s\n%s", b, again)
	}
}

func TestMarshalRefuses(t *testing.T) {
	hashLabel := entry("/a")
	hashLabel.Label = relabel.HashLabel(relabel.AlgoSHA256, hashLabel.Digest)
	shortDigest := entry("/a")
	shortDigest.Digest = shortDigest.Digest[:4]
	for name, es := range map[string][]Entry{
		"duplicate":    {entry("/a"), entry("/a")},
		"relative":     {entry("usr/bin/a")},
		"newline":      {entry("/a\nb")},
		"control dir":  {entry("DEBIAN/x/y")},
		"hash label":   {hashLabel},
		"short digest": {shortDigest},
	} {
		if _, err := (&Manifest{Entries: es}).Marshal(); err == nil {
			t.Errorf("%s: Marshal accepted it", name)
		}
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	good := entry("/usr/bin/a")
	line := func(e Entry) string {
		m := &Manifest{Entries: []Entry{e}}
		b, _ := m.Marshal()
		return strings.Split(string(b), "\n")[2]
	}
	for name, c := range map[string]struct{ text, want string }{
		"no header":     {line(good) + "\n", "line 1"},
		"version 2":     {"imasigs 2\n", "version 2"},
		"bad hex":       {"imasigs 1\nsha256:zz " + strings.SplitN(line(good), " ", 2)[1] + "\n", "line 2"},
		"two fields":    {"imasigs 1\nsha256:00 00\n", "line 2"},
		"unknown algo":  {"imasigs 1\n" + strings.Replace(line(good), "sha256:", "md9:", 1) + "\n", "line 2"},
		"out of order":  {"imasigs 1\n" + line(entry("/z")) + "\n" + line(good) + "\n", "line 3"},
		"empty":         {"# nothing\n", "header"},
		"crlf":          {"imasigs 1\r\n", "line 1"},
		"crlf entry":    {"imasigs 1\n" + line(good) + "\r\n", "line 2"},
		"algo mismatch": {"imasigs 1\n" + strings.Replace(line(good), "sha256:", "sha512:", 1) + "\n", "line 2"},
	} {
		_, err := Parse(strings.NewReader(c.text))
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrSyntax naming %q", name, err, c.want)
		}
	}
}
