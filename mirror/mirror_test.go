package mirror

// The host tests build a small upstream archive in Debian's layout (three
// packages made by dpkg-deb, indexed by apt-ftparchive, Release signed by a
// test "upstream" key), mirror it, and check the result with Debian's own
// tools: gpgv for the signatures, apt-ftparchive for the index checksums,
// apt-get (update, download) for the whole chain.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/debarchive"
	"github.com/imaboot/imaboot/debsign"
	"github.com/imaboot/imaboot/integration/fixture"
)

func run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// archive is a test upstream archive (fixture.Archive: three packages,
// Release signed by its own key) and its packages' pool paths.
type archive struct {
	*fixture.Archive
	dir, upPub string
	debs       map[string]string // name -> pool path relative to dir
}

func newArchive(t testing.TB) *archive {
	t.Helper()
	fixture.NeedTools(t, "dpkg-deb", "apt-ftparchive", "openssl", "gpgv")
	fa, err := fixture.NewArchive(filepath.Join(t.TempDir(), "upstream"), t.TempDir(), "stable")
	if err != nil {
		t.Fatal(err)
	}
	a := &archive{Archive: fa, dir: fa.Dir, upPub: fa.Keyring, debs: map[string]string{}}
	for _, n := range []string{"alpha", "beta", "gamma"} {
		a.add(t, n, "1.0")
	}
	a.index(t)
	return a
}

func (a *archive) add(t testing.TB, name, version string) {
	t.Helper()
	p, err := fixture.BuildDeb(t.TempDir(), name, version)
	if err == nil {
		a.debs[name], err = a.Add(p)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (a *archive) index(t testing.TB) {
	t.Helper()
	if err := a.Index(); err != nil {
		t.Fatal(err)
	}
}

// site is the mirror operator's side: keys and a Config.
type site struct {
	Config
	ima  fixture.SigningKey
	base string
}

func newSite(t testing.TB, a *archive) *site {
	t.Helper()
	dir := t.TempDir()
	k, err := fixture.NewSigningKey(dir, "ima", "rsa")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := fixture.NewOpenPGPKey(dir, "mirror")
	if err != nil {
		t.Fatal(err)
	}
	s := &site{ima: k, base: filepath.Join(dir, "mirror")}
	s.Config = Config{Upstream: a.dir, Basedir: s.base, Origin: "Acme", Suites: []string{"stable"}, Components: []string{"main"},
		Architectures: []string{"amd64"}, Signingkey: secret, Key: k.Key, Certificate: k.CertPEM, UpstreamKeyring: []string{a.upPub}, Workers: 2}
	return s
}

func mustRun(t testing.TB, c Config) Summary {
	t.Helper()
	var log bytes.Buffer
	sum, err := Run(c, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("%s", sum)
	return sum
}

// stanzas reads a published Packages file (any compression).
func stanzas(t testing.TB, path string) map[string]debarchive.Paragraph {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text, err := debarchive.Decompress(filepath.Ext(path), b)
	if filepath.Ext(path) == "" || !strings.HasPrefix(filepath.Ext(path), ".") {
		text = b
	}
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]debarchive.Paragraph{}
	debarchive.ReadParagraphs(bytes.NewReader(text), func(p debarchive.Paragraph) error {
		m[p.Value("Package")] = p
		return nil
	})
	return m
}

// TestMirrorLayout: one run publishes the layout; gpgv verifies InRelease
// and Release.gpg with the published key; every file Release lists exists
// with its size and hash (and by-hash); apt-ftparchive computes the same
// sizes and checksums for the pool as the Packages files say; every package
// carries its manifest; the key package is there.
func TestMirrorLayout(t *testing.T) {
	a := newArchive(t)
	s := newSite(t, a)
	sum := mustRun(t, s.Config)
	if sum.Signed != 3 || sum.Published != 4 || len(sum.Failures) != 0 || !sum.Changed {
		t.Errorf("summary %+v", sum)
	}
	dists := filepath.Join(s.base, "dists/stable")
	ring := filepath.Join(s.base, KeyringFile)
	if out, err := exec.Command("gpgv", "--keyring", ring, filepath.Join(dists, "InRelease")).CombinedOutput(); err != nil {
		t.Errorf("gpgv InRelease: %v\n%s", err, out)
	}
	if out, err := exec.Command("gpgv", "--keyring", ring, filepath.Join(dists, "Release.gpg"), filepath.Join(dists, "Release")).CombinedOutput(); err != nil {
		t.Errorf("gpgv Release.gpg: %v\n%s", err, out)
	}
	// The upstream key does not verify the mirror's Release.
	if err := exec.Command("gpgv", "--keyring", a.upPub, filepath.Join(dists, "InRelease")).Run(); err == nil {
		t.Error("the mirror's InRelease verifies with the upstream key")
	}
	relText, _ := os.ReadFile(filepath.Join(dists, "Release"))
	rel, err := debarchive.ParseRelease(relText)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Origin: Acme", "Codename: stable", "Architectures: amd64\n", "Acquire-By-Hash: yes"} {
		if !strings.Contains(string(relText), want) {
			t.Errorf("Release lacks %q:\n%s", want, relText)
		}
	}
	var names []string
	for name, sm := range rel.Files {
		names = append(names, name)
		b, err := os.ReadFile(filepath.Join(dists, name))
		if err != nil {
			t.Errorf("Release lists %s: %v", name, err)
			continue
		}
		if err := checkSum(b, sm); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		bh, err := os.ReadFile(filepath.Join(dists, filepath.Dir(name), "by-hash/SHA256", sm.Digests["SHA256"]))
		if err != nil || !bytes.Equal(bh, b) {
			t.Errorf("%s: no by-hash copy: %v", name, err)
		}
	}
	for _, want := range []string{"main/binary-amd64/Packages", "main/binary-amd64/Packages.gz", "main/binary-amd64/Packages.xz", "main/i18n/Translation-en"} {
		if _, ok := rel.Files[want]; !ok {
			t.Errorf("Release does not list %s (lists %v)", want, names)
		}
	}
	for name := range rel.Files {
		if strings.Contains(name, "arm64") {
			t.Errorf("Release lists %s, an architecture not mirrored", name)
		}
	}
	// apt-ftparchive over the published pool agrees with our index.
	ours := stanzas(t, filepath.Join(dists, "main/binary-amd64/Packages.xz"))
	theirs := map[string]debarchive.Paragraph{}
	debarchive.ReadParagraphs(strings.NewReader(run(t, s.base, "apt-ftparchive", "packages", "pool")), func(p debarchive.Paragraph) error {
		theirs[p.Value("Package")] = p
		return nil
	})
	if len(ours) != 4 || len(theirs) != 4 {
		t.Fatalf("our index has %d packages, apt-ftparchive finds %d", len(ours), len(theirs))
	}
	for name, p := range ours {
		q := theirs[name]
		for _, f := range []string{"Filename", "Size", "MD5sum", "SHA256", "Version"} {
			if p.Value(f) != q.Value(f) {
				t.Errorf("%s %s: ours %q, apt-ftparchive %q", name, f, p.Value(f), q.Value(f))
			}
		}
		pkg, err := deb.ReadFile(filepath.Join(s.base, p.Value("Filename")))
		if err != nil {
			t.Fatal(err)
		}
		m, err := debsign.ReadManifest(pkg)
		if err != nil || m == nil {
			t.Errorf("%s: no manifest: %v", name, err)
		} else if _, ok := m.Lookup("/usr/bin/" + name); !ok && !strings.HasSuffix(name, "-ima-signing-key") {
			t.Errorf("%s: /usr/bin/%s not signed", name, name)
		}
	}
	if _, ok := ours["acme-ima-signing-key"]; !ok {
		t.Errorf("no key package in the index: %v", ours)
	}
}

// aptGet runs apt-get against the published mirror only, in a private
// state directory, as a client configured with signed-by= would.
func aptGet(t testing.TB, base, root string, args ...string) (string, error) {
	t.Helper()
	for _, d := range []string{"lists/partial", "cache/archives/partial", "etc", "dl"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "status"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "etc/sources.list"), []byte(fmt.Sprintf("deb [signed-by=%s] file:%s stable main\n", filepath.Join(base, KeyringFile), base)), 0o644)
	opts := []string{"-q", "-o", "Dir::State::Lists=" + filepath.Join(root, "lists"), "-o", "Dir::State::status=" + filepath.Join(root, "status"),
		"-o", "Dir::Cache=" + filepath.Join(root, "cache"), "-o", "Dir::Etc::SourceList=" + filepath.Join(root, "etc/sources.list"),
		"-o", "Dir::Etc::SourceParts=/nonexistent", "-o", "APT::Architecture=amd64", "-o", "APT::Architectures=amd64",
		"-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "-o", "Acquire::Languages=none"}
	cmd := exec.Command("apt-get", append(opts, args...)...)
	cmd.Dir = filepath.Join(root, "dl")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestMirrorApt: apt-get update verifies the mirror's InRelease with the
// key given by signed-by= and apt-get download checks the signed .debs
// against the index; an index changed after signing is refused.
func TestMirrorApt(t *testing.T) {
	fixture.NeedTools(t, "apt-get")
	a := newArchive(t)
	s := newSite(t, a)
	mustRun(t, s.Config)
	root := t.TempDir()
	if out, err := aptGet(t, s.base, root, "update"); err != nil || strings.Contains(out, "W:") || strings.Contains(out, "E:") {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
	if out, err := aptGet(t, s.base, root, "download", "alpha", "beta", "acme-ima-signing-key"); err != nil {
		t.Fatalf("apt-get download: %v\n%s", err, out)
	}
	got, _ := filepath.Glob(filepath.Join(root, "dl", "*.deb"))
	if len(got) != 3 {
		t.Errorf("downloaded %v", got)
	}
	// An attacker with write access to the mirror's files changes an index.
	p := filepath.Join(s.base, "dists/stable/main/binary-amd64/Packages.xz")
	b, _ := os.ReadFile(p)
	text, _ := debarchive.Decompress(".xz", b)
	text = bytes.Replace(text, []byte("Package: alpha"), []byte("Package: alpha\nEssential: yes"), 1)
	xzb, _ := debarchive.Compress(".xz", text)
	os.WriteFile(p, xzb, 0o644)
	for _, f := range []string{"Packages", "Packages.gz"} {
		os.Remove(filepath.Join(filepath.Dir(p), f))
	}
	os.RemoveAll(filepath.Join(filepath.Dir(p), "by-hash"))
	root2 := t.TempDir()
	out, err := aptGet(t, s.base, root2, "update")
	if err == nil && !strings.Contains(out, "Hash Sum mismatch") && !strings.Contains(out, "E:") {
		t.Errorf("apt-get update accepted a changed Packages file:\n%s", out)
	}
	if !strings.Contains(out, "mismatch") {
		t.Errorf("apt-get update's refusal does not say why:\n%s", out)
	}
	t.Logf("apt-get update, Packages changed:\n%s", lastLines(out, 4))
	// And a Release changed after signing: InRelease no longer verifies.
	in := filepath.Join(s.base, "dists/stable/InRelease")
	b, _ = os.ReadFile(in)
	os.WriteFile(in, bytes.Replace(b, []byte("Origin: Acme"), []byte("Origin: Acmf"), 1), 0o644)
	os.Remove(filepath.Join(s.base, "dists/stable/Release.gpg"))
	out, err = aptGet(t, s.base, t.TempDir(), "update")
	if err == nil && !strings.Contains(out, "not signed") && !strings.Contains(out, "BADSIG") && !strings.Contains(out, "signature") {
		t.Errorf("apt-get update accepted a changed InRelease:\n%s", out)
	}
	t.Logf("apt-get update, InRelease changed:\n%s", lastLines(out, 4))
}

// TestMirrorIncremental: a second run over the same archive signs nothing,
// switches nothing and leaves every published file as it was; a new
// upstream version is the only package signed by the next run, and the
// previous version's file stays one generation, then goes.
func TestMirrorIncremental(t *testing.T) {
	a := newArchive(t)
	s := newSite(t, a)
	mustRun(t, s.Config)
	before := snapshot(t, s.base)
	sum := mustRun(t, s.Config)
	if sum.Signed != 0 || sum.Reused != 3 || sum.Changed {
		t.Errorf("second run: %+v", sum)
	}
	if after := snapshot(t, s.base); after != before {
		t.Errorf("an unchanged archive changed the published mirror:\n%s\n---\n%s", before, after)
	}
	oldBeta := a.debs["beta"]
	os.Remove(filepath.Join(a.dir, oldBeta))
	a.add(t, "beta", "2.0")
	a.index(t)
	sum = mustRun(t, s.Config)
	if sum.Signed != 1 || sum.Reused != 2 || !sum.Changed {
		t.Errorf("third run: %+v", sum)
	}
	if v := stanzas(t, filepath.Join(s.base, "dists/stable/main/binary-amd64/Packages.gz"))["beta"].Value("Version"); v != "2.0" {
		t.Errorf("beta version %q", v)
	}
	// A client that read the previous Release can still fetch beta 1.0.
	if _, err := os.Stat(filepath.Join(s.base, oldBeta)); err != nil {
		t.Errorf("the previous generation's %s is gone at once: %v", oldBeta, err)
	}
	// Upstream changes again: the generation before the previous is removed.
	a.add(t, "delta", "1.0")
	a.index(t)
	mustRun(t, s.Config)
	if _, err := os.Stat(filepath.Join(s.base, oldBeta)); err == nil {
		t.Errorf("%s is still there two generations later", oldBeta)
	}
	// by-hash holds the indexes of this generation and the previous one:
	// Packages, .gz, .xz twice.
	if bh, _ := os.ReadDir(filepath.Join(s.base, "dists/stable/main/binary-amd64/by-hash/SHA256")); len(bh) != 6 {
		t.Errorf("by-hash holds %d files after three generations, want 6 (two generations of three)", len(bh))
	}
}

// snapshot lists every published file with its inode and size.
func snapshot(t testing.TB, dir string) string {
	t.Helper()
	return run(t, dir, "sh", "-c", "find . -path ./.imaboot-mirror -prune -o -type f -printf '%p %i %s\\n' | sort")
}

// TestMirrorInterrupted: a run stopped while signing, and one stopped just
// before the switch, leave the published mirror as it was (every file its
// Release names present and matching) and the next run resumes from the
// packages already signed.
func TestMirrorInterrupted(t *testing.T) {
	a := newArchive(t)
	s := newSite(t, a)
	mustRun(t, s.Config)
	published := snapshot(t, s.base)
	for _, n := range []string{"delta", "epsilon", "zeta"} {
		a.add(t, n, "1.0")
	}
	a.index(t)
	defer func() { testHook = nil }()
	n := 0
	testHook = func(stage string) error {
		if stage == "signed" {
			if n++; n == 2 {
				return errors.New("killed")
			}
		}
		return nil
	}
	s.Workers = 1
	var se *SetupError
	if _, err := Run(s.Config, nil); err == nil || !strings.Contains(err.Error(), "killed") || errors.As(err, &se) {
		t.Fatalf("interrupted run: %v (want an error that is not a SetupError: packages were stored)", err)
	}
	if got := snapshot(t, s.base); got != published {
		t.Errorf("an interrupted run changed the published mirror:\n%s\n---\n%s", published, got)
	}
	consistent(t, s.base)
	testHook = func(stage string) error {
		if stage == "switch" {
			return errors.New("killed before the switch")
		}
		return nil
	}
	if _, err := Run(s.Config, nil); err == nil || errors.As(err, &se) {
		t.Fatalf("the hook did not stop the run, or stopped it as a SetupError: %v", err)
	}
	if got := snapshot(t, s.base); got == published {
		t.Log("(the pool had no name to relink before the switch)")
	}
	consistent(t, s.base)
	testHook = nil
	sum := mustRun(t, s.Config)
	if sum.Signed != 0 || sum.Reused != 6 || !sum.Changed {
		t.Errorf("resumed run: %+v (want the 3 new packages taken from the interrupted runs)", sum)
	}
	consistent(t, s.base)
	if len(stanzas(t, filepath.Join(s.base, "dists/stable/main/binary-amd64/Packages.xz"))) != 7 {
		t.Error("the resumed run does not publish the 6 packages and the key package")
	}
}

// consistent checks that every file the published Release and Packages
// name is there with the size and hash they give.
func consistent(t testing.TB, base string) {
	t.Helper()
	dists := filepath.Join(base, "dists/stable")
	relText, err := os.ReadFile(filepath.Join(dists, "Release"))
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := debarchive.ParseRelease(relText)
	for name, sm := range rel.Files {
		b, err := os.ReadFile(filepath.Join(dists, name))
		if err != nil || checkSum(b, sm) != nil {
			t.Errorf("published Release names %s: %v %v", name, err, checkSum(b, sm))
		}
	}
	for _, p := range stanzas(t, filepath.Join(dists, "main/binary-amd64/Packages.xz")) {
		b, err := os.ReadFile(filepath.Join(base, p.Value("Filename")))
		if err != nil || debarchive.SHA256Hex(b) != p.Value("SHA256") {
			t.Errorf("published Packages names %s: %v", p.Value("Filename"), err)
		}
	}
}

// TestMirrorFailures: a corrupt upstream package (bytes that do not match
// upstream's index) is reported and never published; a package that
// matches its index but cannot be signed is left out, or published
// unsigned when the operator says so; upstream indexes or a Release that do
// not verify stop the run with nothing published.
func TestMirrorFailures(t *testing.T) {
	a := newArchive(t)
	s := newSite(t, a)
	// gamma corrupted after upstream indexed it.
	g := filepath.Join(a.dir, a.debs["gamma"])
	b, _ := os.ReadFile(g)
	b[len(b)-10] ^= 0xff
	os.WriteFile(g, b, 0o644)
	sum := mustRun(t, s.Config)
	if len(sum.Failures) != 1 || !sum.Failures[0].Corrupt || !strings.Contains(sum.Failures[0].Reason, "corrupt") || sum.Failures[0].Filename != a.debs["gamma"] {
		t.Errorf("failures %+v", sum.Failures)
	}
	idx := stanzas(t, filepath.Join(s.base, "dists/stable/main/binary-amd64/Packages.xz"))
	if _, ok := idx["gamma"]; ok {
		t.Error("the corrupt package is in the index")
	}
	if _, err := os.Stat(filepath.Join(s.base, a.debs["gamma"])); err == nil {
		t.Error("the corrupt package is in the pool")
	}
	// Even with PublishUnsigned, a corrupt package is not published.
	s.PublishUnsigned = true
	mustRun(t, s.Config)
	if _, ok := stanzas(t, filepath.Join(s.base, "dists/stable/main/binary-amd64/Packages.xz"))["gamma"]; ok {
		t.Error("PublishUnsigned published a corrupt package")
	}

	// A package upstream indexed that is not a valid .deb: indexed as it is.
	a2 := newArchive(t)
	bad := filepath.Join(a2.dir, a2.debs["beta"])
	pkg, _ := deb.ReadFile(bad)
	pkg.Members[2].Data = bytes.Repeat([]byte("garbage!"), 64) // data.tar.xz that is not xz
	var buf bytes.Buffer
	pkg.Write(&buf)
	os.WriteFile(bad, buf.Bytes(), 0o644)
	a2.index(t)
	s2 := newSite(t, a2)
	sum = mustRun(t, s2.Config)
	if len(sum.Failures) != 1 || sum.Failures[0].Corrupt || !strings.Contains(sum.Failures[0].Reason, "cannot be signed") || sum.Failures[0].Unsigned {
		t.Errorf("unsignable package: %+v", sum.Failures)
	}
	if _, ok := stanzas(t, filepath.Join(s2.base, "dists/stable/main/binary-amd64/Packages.xz"))["beta"]; ok {
		t.Error("an unsignable package was published without PublishUnsigned")
	}
	s2.PublishUnsigned = true
	sum = mustRun(t, s2.Config)
	if len(sum.Failures) != 1 || !sum.Failures[0].Unsigned {
		t.Errorf("PublishUnsigned: %+v", sum.Failures)
	}
	p := stanzas(t, filepath.Join(s2.base, "dists/stable/main/binary-amd64/Packages.xz"))["beta"]
	if p.Value("SHA256") != debarchive.SHA256Hex(buf.Bytes()) {
		t.Errorf("the unsigned package is not published as upstream made it: %q", p)
	}

	// Upstream's Packages changed after its Release was signed; then a
	// Release signed by another key. Nothing is published either time.
	before := snapshot(t, s.base)
	pk := filepath.Join(a.dir, "dists/stable/main/binary-amd64/Packages.xz")
	orig, _ := os.ReadFile(pk)
	text, _ := debarchive.Decompress(".xz", orig)
	evil, _ := debarchive.Compress(".xz", bytes.Replace(text, []byte("Package: alpha"), []byte("Package: alpha\nPre-Depends: evil"), 1))
	os.WriteFile(pk, evil, 0o644)
	os.Remove(filepath.Join(a.dir, "dists/stable/main/binary-amd64/Packages.gz"))
	if _, err := Run(s.Config, nil); err == nil || !strings.Contains(err.Error(), "want") || !strings.Contains(err.Error(), "Packages.xz") {
		t.Errorf("a changed upstream index: %v", err)
	}
	other := newArchive(t)
	os.WriteFile(pk, orig, 0o644)
	for _, f := range []string{"InRelease", "Release", "Release.gpg"} {
		b, _ := os.ReadFile(filepath.Join(other.dir, "dists/stable", f))
		os.WriteFile(filepath.Join(a.dir, "dists/stable", f), b, 0o644)
	}
	var se *SetupError
	if _, err := Run(s.Config, nil); !errors.As(err, &se) || !strings.Contains(err.Error(), "signed by no key") {
		t.Errorf("a Release signed by another key: %v", err)
	}
	if after := snapshot(t, s.base); after != before {
		t.Error("a refused upstream changed the published mirror")
	}
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mirror.conf")
	os.WriteFile(p, []byte("# the site's mirror\nBasedir: /srv/mirror\nUpstream: up\nSuites: bookworm, bookworm-updates\nComponents: main\nArchitectures: amd64 arm64\nSigningkey: key.asc\nThreads: 4\nPublishUnsigned: yes\nUpstreamKeyring: /usr/share/keyrings/debian-archive-keyring.gpg\n"), 0o644)
	c, err := ReadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Basedir != "/srv/mirror" || c.Upstream != filepath.Join(dir, "up") || c.Signingkey != filepath.Join(dir, "key.asc") || len(c.Suites) != 2 || c.Suites[1] != "bookworm-updates" || len(c.Architectures) != 2 || c.Workers != 4 || !c.PublishUnsigned {
		t.Errorf("%+v", c)
	}
	for body, want := range map[string]string{"Bogus: 1\n": "unknown key", "Threads: many\n": "want a whole number", "Workers: -1\n": "want a whole number", "Basedir /x\n": "Key: value"} {
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := ReadConfig(p); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), ":1:") {
			t.Errorf("%q: %v", body, err)
		}
	}
	c = Config{Upstream: "/a", Basedir: "/a/mirror", Suites: []string{"s"}, Components: []string{"main"}, Architectures: []string{"amd64"}, Signingkey: "k", Key: "k", Certificate: "c", AllowUnverifiedUpstream: true}
	if err := c.check(); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("Basedir inside Upstream: %v", err)
	}
	c.Basedir, c.AllowUnverifiedUpstream = "/b", false
	if err := c.check(); err == nil || !strings.Contains(err.Error(), "UpstreamKeyring") {
		t.Errorf("no keyring: %v", err)
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// A second run while one holds the lock stops at once, publishing nothing.
func TestMirrorLock(t *testing.T) {
	a := newArchive(t)
	s := newSite(t, a)
	os.MkdirAll(filepath.Join(s.base, stateDir), 0o755)
	unlock, err := lock(filepath.Join(s.base, stateDir, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	var se *SetupError
	if _, err := Run(s.Config, nil); !errors.As(err, &se) || !strings.Contains(err.Error(), "holds the lock") {
		t.Errorf("second run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.base, "dists")); err == nil {
		t.Error("the locked-out run published")
	}
	unlock()
	mustRun(t, s.Config)
}
