package debarchive

import (
	"bytes"
	"crypto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestParagraphsRoundTrip(t *testing.T) {
	in := "Package: a\nVersion: 1\nDescription: short\n long line\n .\n more\nSHA256:x\n\n\nPackage: b\nDepends: c,\n d\n"
	var out []byte
	var got []Paragraph
	err := ReadParagraphs(strings.NewReader(in), func(p Paragraph) error {
		got = append(got, p)
		if len(out) > 0 {
			out = append(out, '\n')
		}
		out = p.AppendTo(out)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(in, "\n\n\n", "\n\n", 1)
	if string(out) != want {
		t.Errorf("round trip:\n%q\nwant\n%q", out, want)
	}
	if len(got) != 2 || got[0].Value("description") != "short\n long line\n .\n more" || got[0].Value("SHA256") != "x" || got[1].Value("Depends") != "c,\n d" {
		t.Errorf("values: %q", got)
	}
	p := got[0].Clone()
	p.Set("Version", "2")
	p.Delete("SHA256")
	if got[0].Value("Version") != "1" || p.Value("Version") != "2" || p.Has("sha256") {
		t.Errorf("Set/Delete: %q / %q", got[0], p)
	}
	if err := ReadParagraphs(strings.NewReader("Package a\n"), func(Paragraph) error { return nil }); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad line: %v", err)
	}
}

func TestReleaseRoundTrip(t *testing.T) {
	body := []byte("bogus")
	s := SumOf(body)
	r := &Release{Fields: Paragraph{{"Origin", " o"}, {"Suite", " s"}}, Files: map[string]Sum{"main/binary-amd64/Packages": s, "main/i18n/Translation-en": SumOf(nil)}}
	b := r.Bytes("MD5Sum", "SHA256")
	back, err := ParseRelease(b)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Files["main/binary-amd64/Packages"]
	if got.Size != 5 || got.Digests["SHA256"] != SHA256Hex(body) || got.Digests["MD5Sum"] != s.Digests["MD5Sum"] || back.Fields.Value("Origin") != "o" {
		t.Errorf("%s\nparsed %+v", b, back)
	}
	if f, d := got.Strongest(); f != "SHA256" || d != SHA256Hex(body) {
		t.Errorf("strongest %s %s", f, d)
	}
	if _, err := ParseRelease([]byte("SHA256:\n abc 12x path\n")); err == nil {
		t.Error("a bad size was accepted")
	}
}

// Debian's own InRelease (in apt's lists after apt-get update) verifies
// against the archive keyring, and fails against another key.
func TestVerifyDebianInRelease(t *testing.T) {
	in, err := os.ReadFile("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease")
	if err != nil {
		t.Skip("no bookworm InRelease in /var/lib/apt/lists")
	}
	k, err := LoadKeyring("/usr/share/keyrings/debian-archive-keyring.gpg")
	if err != nil {
		t.Fatal(err)
	}
	text, fpr, err := k.VerifyInRelease(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRelease(text)
	if err != nil || r.Fields.Value("Codename") != "bookworm" || len(r.Files) < 100 {
		t.Fatalf("parsed %v, %d files: %v", r.Fields.Value("Codename"), len(r.Files), err)
	}
	t.Logf("signed by %s", fpr)
	s := newTestSigner(t)
	other := &Keyring{list: openpgp.EntityList{s.entity}, files: []string{"other"}}
	if _, _, err := other.VerifyInRelease(in); err == nil || !strings.Contains(err.Error(), "signed by no key of other") {
		t.Errorf("another keyring: %v", err)
	}
	// A changed byte in the signed text.
	bad := bytes.Replace(in, []byte("Codename: bookworm"), []byte("Codename: bookwork"), 1)
	if _, _, err := k.VerifyInRelease(bad); err == nil {
		t.Error("a changed InRelease verified")
	}
	if _, _, err := k.VerifyInRelease(append(append([]byte(nil), in...), "Extra: x\n"...)); err == nil {
		t.Error("text after the signature was accepted")
	}
}

func newTestSigner(t *testing.T) *Signer {
	t.Helper()
	e, err := openpgp.NewEntity("test mirror", "", "mirror@example.org", &packet.Config{RSABits: 2048, DefaultHash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{entity: e}
}

// What we sign, gpgv verifies with the exported key (as apt does); a
// passphrase-protected key exported by gpg itself loads.
func TestSignVerifiedByGpgv(t *testing.T) {
	for _, tool := range []string{"gpg", "gpgv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "gnupg")
	os.Mkdir(home, 0o700)
	gpg := func(args ...string) []byte {
		cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "s3cret"}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %v: %v", args, err)
		}
		return out
	}
	gpg("--quick-gen-key", "mirror test <m@example.org>", "rsa3072", "sign", "never")
	key := filepath.Join(dir, "key.asc")
	os.WriteFile(key, gpg("--armor", "--export-secret-keys"), 0o600)
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("s3cret\n"), 0o600)
	if _, err := LoadSigner(key, ""); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("no passphrase file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "wrong"), []byte("nope\n"), 0o600)
	if _, err := LoadSigner(key, filepath.Join(dir, "wrong")); err == nil {
		t.Error("a wrong passphrase decrypted the key")
	}
	s, err := LoadSigner(key, pass)
	if err != nil {
		t.Fatal(err)
	}
	release := []byte("Origin: test\nSuite: stable\nSHA256:\n 00 0 x\n")
	in, det, err := s.Sign(release)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := s.PublicKey()
	ring := filepath.Join(dir, "ring.gpg")
	os.WriteFile(ring, pub, 0o644)
	files := map[string][]byte{"InRelease": in, "Release": release, "Release.gpg": det}
	for n, b := range files {
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	out, err := exec.Command("gpgv", "--keyring", ring, "--output", "-", filepath.Join(dir, "InRelease")).Output()
	if err != nil || !bytes.Equal(out, release) {
		t.Errorf("gpgv InRelease: %v, text %q", err, out)
	}
	if out, err := exec.Command("gpgv", "--keyring", ring, filepath.Join(dir, "Release.gpg"), filepath.Join(dir, "Release")).CombinedOutput(); err != nil {
		t.Errorf("gpgv Release.gpg: %v\n%s", err, out)
	}
	// And our verifier agrees, with the same key, and refuses a change.
	k := &Keyring{list: openpgp.EntityList{s.entity}}
	if text, _, err := k.VerifyInRelease(in); err != nil || !bytes.Equal(text, release) {
		t.Errorf("VerifyInRelease: %v %q", err, text)
	}
	if _, err := k.VerifyDetached(release, det); err != nil {
		t.Error(err)
	}
	if _, err := k.VerifyDetached(append(release, 'x'), det); err == nil {
		t.Error("a changed Release verified")
	}
}
