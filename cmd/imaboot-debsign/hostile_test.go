package main

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/debsign"
	"github.com/imaboot/imaboot/integration/fixture"
)

// makeDeb writes a package whose data.tar holds these names (regular
// files, content "x"), in order.
func makeDeb(t *testing.T, path string, names ...string) {
	t.Helper()
	tarOf := func(files map[string]string, order []string, mode int64) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, n := range order {
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: mode, Size: int64(len(files[n])), Format: tar.FormatGNU})
			tw.Write([]byte(files[n]))
		}
		tw.Close()
		return b.Bytes()
	}
	ctl := tarOf(map[string]string{"./control": "Package: t\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n t\n"}, []string{"./control"}, 0o644)
	files := map[string]string{}
	for _, n := range names {
		files[n] = "x"
	}
	p, err := deb.New(ctl, tarOf(files, names, 0o755), deb.Gzip, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func manifestPaths(t *testing.T, path string) []string {
	t.Helper()
	p, err := deb.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := debsign.ReadManifest(p)
	if err != nil || m == nil {
		t.Fatalf("manifest of %s: %v", path, err)
	}
	var out []string
	for _, e := range m.Entries {
		out = append(out, e.Path)
	}
	return out
}

// twoKeys makes two ECDSA keys and certificates in d.
func twoKeys(t *testing.T, d string) (fixture.SigningKey, fixture.SigningKey) {
	t.Helper()
	k1, err := fixture.NewSigningKey(d, "k1", "ec")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := fixture.NewSigningKey(d, "k2", "ec")
	if err != nil {
		t.Fatal(err)
	}
	return k1, k2
}

func signCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// Manifest paths are the ones dpkg installs (and lists): "./usr//bin/./x"
// is /usr/bin/x. A ".." is refused, a name with a newline is counted as
// dropped, and re-signing another key's package says so.
func TestManifestPaths(t *testing.T) {
	d := t.TempDir()
	k1, k2 := twoKeys(t, d)
	pkg := filepath.Join(d, "t.deb")
	makeDeb(t, pkg, "./usr//bin/./x", "usr/lib/y", "./usr/share/new\nline")
	code, _, errs := signCLI("-q", "--key", k1.Key, "--cert", k1.CertPEM, pkg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := strings.Join(manifestPaths(t, pkg), " "); got != "/usr/bin/x /usr/lib/y" {
		t.Errorf("manifest paths %q, want \"/usr/bin/x /usr/lib/y\"", got)
	}
	if !strings.Contains(errs, "1 files not signed: their names hold a newline") || !strings.Contains(errs, "1 dropped") {
		t.Errorf("the dropped file is not counted:\n%s", errs)
	}
	code, _, errs = signCLI("-q", "--key", k2.Key, "--cert", k2.CertPEM, pkg)
	if code != 0 || !strings.Contains(errs, "warning: "+pkg+": replaced an imasigs manifest signed by another key") {
		t.Errorf("re-signing with another key: exit %d, no warning:\n%s", code, errs)
	}

	bad := filepath.Join(d, "bad.deb")
	makeDeb(t, bad, "./usr/bin/ok", "./usr/../../etc/evil")
	code, _, errs = signCLI("-q", "--key", k1.Key, "--cert", k1.CertPEM, bad)
	if code != 1 || !strings.Contains(errs, `"./usr/../../etc/evil" has a ".." component`) {
		t.Errorf("a \"..\" entry: exit %d:\n%s", code, errs)
	}
}

// Exit statuses: a key that does not match its certificate is unusable
// input (2, one line, nothing signed); so is an unknown flag.
func TestDebsignExitCodes(t *testing.T) {
	d := t.TempDir()
	k1, k2 := twoKeys(t, d)
	pkg := filepath.Join(d, "t.deb")
	makeDeb(t, pkg, "./usr/bin/x")
	before, _ := os.ReadFile(pkg)
	for _, args := range [][]string{
		{"--key", k1.Key, "--cert", k2.CertPEM, pkg},
		{"--bogus", pkg},
		{"--hash", "md5", "--key", k1.Key, "--cert", k1.CertPEM, pkg},
	} {
		code, out, errs := signCLI(args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "imaboot-debsign: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want 2 and one line", args, code, out, errs)
		}
	}
	if after, _ := os.ReadFile(pkg); !bytes.Equal(before, after) {
		t.Error("the package changed")
	}
}

// Symlinks: a package named through a symlink is signed where it is (the
// symlink stays); in a DIR, a *.deb symlink to a package of DIR is that
// package, one to anything else fails (exit 1), never a silent skip; a
// symlink planted at the old temporary name is not written through.
func TestDebsignSymlinks(t *testing.T) {
	d := t.TempDir()
	k, err := fixture.NewSigningKey(d, "k", "ec")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(d, "dir")
	os.MkdirAll(filepath.Join(dir, "pool"), 0o755)
	makeDeb(t, filepath.Join(dir, "pool/a.deb"), "./usr/bin/a")
	os.Symlink("pool/a.deb", filepath.Join(dir, "a-link.deb"))
	code, _, errs := signCLI("--key", k.Key, "--cert", k.CertPEM, "-q", dir)
	if code != 0 || !strings.Contains(errs, "1 packages signed, 0 failed") {
		t.Errorf("DIR with a symlink to its own package: exit %d\n%s", code, errs)
	}

	makeDeb(t, filepath.Join(d, "outside.deb"), "./usr/bin/o")
	os.Symlink("../outside.deb", filepath.Join(dir, "o-link.deb"))
	code, _, errs = signCLI("--key", k.Key, "--cert", k.CertPEM, "-q", dir)
	if code != 1 || !strings.Contains(errs, "FAILED "+filepath.Join(dir, "o-link.deb")+": a symlink to ") {
		t.Errorf("DIR with a symlink to a package outside it: exit %d\n%s", code, errs)
	}

	link := filepath.Join(d, "named.deb")
	os.Symlink("outside.deb", link)
	victim := filepath.Join(d, "victim")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	os.Symlink(victim, filepath.Join(d, "outside.deb.tmp"))
	if code, _, errs := signCLI("--key", k.Key, "--cert", k.CertPEM, "-q", link); code != 0 {
		t.Fatalf("a package named through a symlink: exit %d\n%s", code, errs)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced")
	}
	if got := manifestPaths(t, filepath.Join(d, "outside.deb")); len(got) != 1 {
		t.Errorf("the symlink's target is not signed: %v", got)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep me" {
		t.Errorf("a symlink planted at outside.deb.tmp was written through: %q", got)
	}
}
