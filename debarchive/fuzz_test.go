package debarchive

import (
	"bytes"
	"testing"
)

// FuzzParse reads arbitrary bytes as an upstream archive's files: deb822
// paragraphs (Packages), a Release file, a clear-signed InRelease (its
// text, unverified). They come from a mirror, before or without
// verification. Nothing may panic; a Release that parses lists only
// files with a SHA256.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Package: a\nVersion: 1\nDescription: x\n more\n\nPackage: b\n",
		"Origin: Debian\nSuite: stable\nDate: Sat, 01 Jan 2000 00:00:00 UTC\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 10 main/binary-amd64/Packages\n",
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: x\n-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n",
		" leading continuation\n",
		"NoColon\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadParagraphs(bytes.NewReader(data), func(p Paragraph) error { return nil })
		if r, err := ParseRelease(data); err == nil {
			for name, s := range r.Files {
				if name == "" {
					t.Fatalf("a file without a name: %+v", s)
				}
			}
		}
		if text, err := UnverifiedText(data); err == nil {
			ParseRelease(text)
		}
	})
}
