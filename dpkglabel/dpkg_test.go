package dpkglabel_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/relabel"
)

// signTree writes dir/DEBIAN/imasigs signing every regular file under dir
// (DEBIAN/ members as control entries); wrong names paths whose signed
// digest is deliberately not their content's.
func signTree(t *testing.T, s *relabel.Signer, dir string, wrong ...string) []byte {
	t.Helper()
	m := &imasigs.Manifest{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		path := "/" + rel
		if strings.HasPrefix(rel, "DEBIAN/") {
			if rel == "DEBIAN/control" {
				return nil
			}
			path = rel
		}
		b, _ := os.ReadFile(p)
		for _, w := range wrong {
			if w == path {
				b = append(b, "tampered"...)
			}
		}
		d := sha256.Sum256(b)
		l, err := s.SignLabel(relabel.TypeSignature, relabel.AlgoSHA256, d[:])
		m.Entries = append(m.Entries, imasigs.Entry{Path: path, Algo: relabel.AlgoSHA256, Digest: d[:], Label: l})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "DEBIAN", imasigs.ControlMember), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func ima(t *testing.T, path string) []byte {
	t.Helper()
	buf := make([]byte, 1024)
	n, err := unix.Lgetxattr(path, relabel.XattrIMA, buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func goBuild(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func newSigner(t *testing.T) *relabel.Signer {
	t.Helper()
	k, err := fixture.NewSigningKey(t.TempDir(), "deb", "rsa")
	if err != nil {
		t.Fatal(err)
	}
	s, err := relabel.LoadSigner(k.Key, k.CertDER)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dpkgRoot is a throw-away root for the real dpkg, dpkg-deb being the shim
// (a link named dpkg-deb first in PATH) and, when hook is set, the
// post-invoke hook imaboot-relabel --from-dpkg --pending.
type dpkgRoot struct {
	t        *testing.T
	s        *relabel.Signer
	work     string
	root     string
	bin      string // PATH directory holding the shim as dpkg-deb
	shim     string
	relabel  string
	realDeb  string
	hook     bool
	extra    []string          // more dpkg options
	link     map[string]string // hard links made in the next build: name -> target
	control  map[string]string // package -> control fields after Package:
	seenFile string            // maintainer scripts write here what they saw
}

func newDpkgRoot(t *testing.T) *dpkgRoot {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (security.ima, dpkg --root)")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "dpkg-divert", "openssl", "getfattr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	d := &dpkgRoot{t: t, s: newSigner(t), work: t.TempDir(), control: map[string]string{}}
	d.bin = filepath.Join(d.work, "bin")
	os.Mkdir(d.bin, 0o755)
	d.shim = goBuild(t, d.work, "github.com/imaboot/imaboot/cmd/imaboot-dpkg-deb")
	if err := os.Symlink(d.shim, filepath.Join(d.bin, "dpkg-deb")); err != nil {
		t.Fatal(err)
	}
	d.relabel = goBuild(t, d.work, "github.com/imaboot/imaboot/cmd/imaboot-relabel")
	d.realDeb, _ = exec.LookPath("dpkg-deb")
	d.root = filepath.Join(d.work, "root")
	for _, dir := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		os.MkdirAll(filepath.Join(d.root, dir), 0o755)
	}
	writeFiles(t, d.root, map[string]string{"var/lib/dpkg/status": "", "var/lib/dpkg/available": ""})
	d.seenFile = filepath.Join(d.work, "seen")
	return d
}

// TestRealDpkgHardLinks: names of one inode (perl and perl5.36.0) are
// labeled once, never raced by two workers, and both carry the label.
func TestRealDpkgHardLinks(t *testing.T) {
	d := newDpkgRoot(t)
	files := map[string]string{"usr/bin/perl": "#!/bin/sh\necho perl\n"}
	for i := 0; i < 40; i++ {
		files[fmt.Sprintf("usr/lib/m/f%02d", i)] = fmt.Sprintf("module %d\n", i)
	}
	d.link = map[string]string{"usr/bin/perl5": "usr/bin/perl", "usr/lib/m/g00": "usr/lib/m/f00"}
	out, err := d.dpkg("--unpack", d.build("links", files))
	if err != nil {
		t.Fatalf("dpkg --unpack: %v\n%s", err, out)
	}
	for _, f := range []string{"usr/bin/perl", "usr/bin/perl5", "usr/lib/m/g00", "usr/lib/m/f39"} {
		if !d.signed(f) {
			t.Errorf("%s is not labeled\n%s", f, out)
		}
	}
	var a, b unix.Stat_t
	unix.Stat(d.at("usr/bin/perl"), &a)
	unix.Stat(d.at("usr/bin/perl5"), &b)
	if a.Ino != b.Ino {
		t.Error("the hard link was not kept")
	}
}

// build makes name.deb from files (path -> content; DEBIAN/ members are
// control members), signed; wrong names paths signed over other content.
func (d *dpkgRoot) build(name string, files map[string]string, wrong ...string) string {
	d.t.Helper()
	dir := filepath.Join(d.work, "src", name)
	os.RemoveAll(dir)
	if d.control[name] == "" {
		d.control[name] = "Version: 1\nArchitecture: all\n"
	}
	all := map[string]string{
		"DEBIAN/control": "Package: " + name + "\n" + d.control[name] + "Maintainer: t <t@example.org>\nDescription: test\n",
	}
	for p, c := range files {
		all[p] = c
	}
	writeFiles(d.t, dir, all)
	for name, target := range d.link {
		if err := os.Link(filepath.Join(dir, target), filepath.Join(dir, name)); err != nil {
			d.t.Fatal(err)
		}
	}
	signTree(d.t, d.s, dir, wrong...)
	deb := filepath.Join(d.work, name+".deb")
	if b, err := exec.Command(d.realDeb, "--root-owner-group", "-b", dir, deb).CombinedOutput(); err != nil {
		d.t.Fatalf("dpkg-deb -b: %v\n%s", err, b)
	}
	return deb
}

// dpkg runs the real dpkg on the root; it fails the test if dpkg has not
// finished within a minute (the shim must never keep dpkg waiting).
func (d *dpkgRoot) dpkg(args ...string) (string, error) {
	d.t.Helper()
	all := []string{"--root=" + d.root, "--force-script-chrootless", "--force-not-root"}
	if d.hook {
		// The same line as dpkg/dpkg.cfg.d/imaboot: dpkg sets DPKG_ROOT for hooks.
		all = append(all, "--post-invoke="+d.relabel+" --from-dpkg --pending --root ${DPKG_ROOT:-/}")
	}
	all = append(append(all, d.extra...), args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dpkg", all...)
	cmd.Env = append(os.Environ(), "PATH="+d.bin+":"+os.Getenv("PATH"), "IMABOOT_DPKG_DEB="+d.realDeb, "IMABOOT_DPKG_DEB_VERBOSE=1")
	// A shim left running holds dpkg's output open: stop waiting for it.
	cmd.WaitDelay = 10 * time.Second
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil || errors.Is(err, exec.ErrWaitDelay) {
		d.t.Fatalf("dpkg %s did not finish within a minute, or left a process holding its output: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b), err
}

// at is a path inside the root.
func (d *dpkgRoot) at(p string) string { return filepath.Join(d.root, p) }

// signed reports whether path (inside the root) carries a v2 signature.
func (d *dpkgRoot) signed(p string) bool {
	l := ima(d.t, d.at(p))
	return len(l) > 1 && l[0] == byte(relabel.TypeSignature) && l[1] == 2
}

// recordLabel is a maintainer script that writes the security.ima of file
// inside the root ("": the script itself), or nothing, to the seen
// file under tag, when dpkg runs it.
func (d *dpkgRoot) recordLabel(tag, file string) string {
	p := `"$DPKG_ROOT` + file + `"`
	if file == "" {
		p = `"$0"`
	}
	return "#!/bin/sh\ngetfattr --absolute-names -n security.ima --only-values " + p + " > " + d.seenFile + "." + tag + " 2>/dev/null || true\n"
}

// matches reports whether a line of s matches re.
func matches(re, s string) bool {
	return regexp.MustCompile(`(?m)` + re).MatchString(s)
}

// seen is what the script recorded under tag was a v2 signature.
func (d *dpkgRoot) seen(tag string) bool {
	b, err := os.ReadFile(d.seenFile + "." + tag)
	return err == nil && bytes.HasPrefix(b, []byte{byte(relabel.TypeSignature), 2})
}

// TestRealDpkg installs and upgrades signed .debs with the real dpkg in a
// throw-away root, dpkg-deb being the shim and with no post-invoke hook: the
// preinst carries its signature when it runs; every data file is labeled
// before dpkg renames it into place, so the old version's postrm, which dpkg
// runs after the renames within the unpack, finds the new file labeled (as
// the new libc6's loader must be when the old postrm starts /bin/sh); a
// file whose content does not match its signature stops the unpack before
// anything of the package is put in place.
func TestRealDpkg(t *testing.T) {
	d := newDpkgRoot(t)
	good := func() map[string]string {
		return map[string]string{
			"DEBIAN/preinst":            d.recordLabel("preinst", ""),
			"DEBIAN/postinst":           "#!/bin/sh\nexit 0\n",
			"DEBIAN/postrm":             d.recordLabel("postrm", "/usr/bin/good"),
			"usr/bin/good":              "#!/bin/sh\necho good " + strings.ReplaceAll(d.control["good"], "\n", " ") + "\n",
			"usr/share/doc/good/README": "data of good\n",
		}
	}
	out, err := d.dpkg("--unpack", d.build("good", good()))
	if err != nil {
		t.Fatalf("dpkg --unpack: %v\n%s", err, out)
	}
	if !d.seen("preinst") {
		t.Errorf("the preinst ran without its signature\n%s", out)
	}
	for _, f := range []string{"usr/bin/good", "usr/share/doc/good/README", "var/lib/dpkg/info/good.postinst", "var/lib/dpkg/info/good.preinst"} {
		if !d.signed(f) {
			t.Errorf("%s: security.ima %x after the unpack, want a signature\n%s", f, ima(t, d.at(f)), out)
		}
	}
	if !strings.Contains(out, "imaboot-dpkg-deb: good: 2 labeled, 0 already labeled, 0 not extracted by dpkg") {
		t.Errorf("the shim did not report labeling the two data files:\n%s", out)
	}
	if out, err := d.dpkg("--configure", "good"); err != nil {
		t.Fatalf("dpkg --configure: %v\n%s", err, out)
	}

	// The upgrade: new content; the old postrm runs after the new file is in place.
	d.control["good"] = "Version: 2\nArchitecture: all\n"
	out, err = d.dpkg("--unpack", d.build("good", good()))
	if err != nil {
		t.Fatalf("dpkg --unpack of version 2: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(d.at("usr/bin/good")); !strings.Contains(string(b), "Version: 2") {
		t.Fatalf("usr/bin/good is not version 2: %q", b)
	}
	if !d.seen("postrm") {
		t.Errorf("the old postrm, run after the renames, found the new usr/bin/good unlabeled\n%s", out)
	}
	if !d.signed("usr/bin/good") {
		t.Errorf("usr/bin/good of version 2 is not labeled\n%s", out)
	}
	if out, err := d.dpkg("--configure", "-a"); err != nil {
		t.Fatalf("dpkg --configure -a: %v\n%s", err, out)
	}

	// A data file whose content is not what was signed: not labeled, and
	// dpkg abandons the package before renaming anything into place.
	out, err = d.dpkg("--unpack", d.build("bad", map[string]string{
		"usr/bin/bad":              "#!/bin/sh\n",
		"usr/share/doc/bad/README": "data of bad\n",
	}, "/usr/bin/bad"))
	if err == nil {
		t.Errorf("dpkg --unpack of a package with a mismatching file succeeded:\n%s", out)
	}
	if !matches(`imaboot-dpkg-deb: bad: not labeled: \S*/usr/bin/bad.dpkg-new: content does not match`, out) ||
		!strings.Contains(out, "dpkg-deb --fsys-tarfile subprocess returned error exit status 1") {
		t.Errorf("the mismatch, or dpkg's word on the stopped unpack, is missing:\n%s", out)
	}
	for _, f := range []string{"usr/bin/bad", "usr/bin/bad.dpkg-new", "usr/share/doc/bad/README"} {
		if _, err := os.Lstat(d.at(f)); err == nil {
			t.Errorf("%s is on disk after the refused unpack", f)
		}
	}
}

// TestRealDpkgInstall: dpkg -i unpacks and configures in one run, before
// any post-invoke hook: the postinst finds the package's new program
// labeled.
func TestRealDpkgInstall(t *testing.T) {
	d := newDpkgRoot(t)
	d.hook = true
	out, err := d.dpkg("-i", d.build("probe", map[string]string{
		"DEBIAN/postinst":  d.recordLabel("postinst", "/usr/bin/probe"),
		"usr/bin/probe":    "#!/bin/sh\necho probe\n",
		"usr/lib/probe.so": "not really a library\n",
	}))
	if err != nil {
		t.Fatalf("dpkg -i: %v\n%s", err, out)
	}
	if !d.seen("postinst") {
		t.Errorf("the postinst of dpkg -i found its new program unlabeled\n%s", out)
	}
	// The hook is a check now: everything was labeled already.
	if !strings.Contains(out, "summary: 0 packages") && !strings.Contains(out, " 0 labeled, ") {
		t.Errorf("the post-invoke hook had to label something:\n%s", out)
	}
}

// TestRealDpkgConflict: dpkg stops extracting on an error of its own (a
// file another package owns) and closes its end of the pipe; the run ends
// with dpkg's own error, never waiting on the shim, both for a package that
// fits in the pipe (the shim is then waiting for dpkg to read its end
// marker) and for one that does not (the real dpkg-deb is still writing).
func TestRealDpkgConflict(t *testing.T) {
	d := newDpkgRoot(t)
	if out, err := d.dpkg("-i", d.build("owner", map[string]string{"usr/bin/shared": "#!/bin/sh\n"})); err != nil {
		t.Fatalf("dpkg -i owner: %v\n%s", err, out)
	}
	// dpkg-deb -b writes the archive sorted by name: usr/a/* come before
	// usr/bin/shared, usr/share/* after it.
	many := map[string]string{"usr/bin/shared": "#!/bin/sh\necho other\n"}
	for i := 0; i < 150; i++ {
		many[fmt.Sprintf("usr/a/f%03d", i)] = strings.Repeat("x", 100)
	}
	for name, files := range map[string]map[string]string{
		// All in the pipe at once: dpkg may close it before or after the
		// shim wrote the end marker.
		"first": {"usr/bin/shared": "#!/bin/sh\necho other\n"},
		// The shim has written everything and waits while dpkg works through
		// 150 files before it meets the conflict and closes the pipe.
		"last": many,
		// More than a pipe holds: the real dpkg-deb is still writing.
		"large": {"usr/bin/shared": "#!/bin/sh\necho other\n", "usr/share/zz/big": strings.Repeat("0123456789abcdef", 1<<16)},
	} {
		out, err := d.dpkg("--unpack", d.build(name, files))
		if err == nil {
			t.Errorf("%s: dpkg --unpack succeeded despite the conflict:\n%s", name, out)
		}
		if !strings.Contains(out, "trying to overwrite '/usr/bin/shared', which is also in package owner") {
			t.Errorf("%s: dpkg's own error is missing:\n%s", name, out)
		}
		if strings.Contains(out, "imaboot-dpkg-deb:") && !strings.Contains(out, "labeled") {
			t.Errorf("%s: the shim spoke up about dpkg's error:\n%s", name, out)
		}
	}
	// No shim is left behind, waiting on a pipe nobody reads.
	time.Sleep(100 * time.Millisecond)
	if pids := processesOf(d.shim); len(pids) > 0 {
		t.Errorf("shim processes left after the failed runs: %v", pids)
	}
}

// processesOf lists the pids whose executable is exe.
func processesOf(exe string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if l, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && l == exe {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestRealDpkgExcludedAndDiverted: a file dpkg does not extract
// (path-exclude) is skipped, not reported, by the shim and by the
// post-invoke check; an executable conffile, which dpkg leaves as
// NAME.dpkg-new until --configure, is labeled there; a file diverted by
// the admin (dpkg-divert --local --rename, as imaboot-dpkg-hooks does for
// dpkg-deb) is labeled at the diverted name, where dpkg extracts it.
func TestRealDpkgExcludedAndDiverted(t *testing.T) {
	d := newDpkgRoot(t)
	d.hook = true
	d.extra = []string{"--path-exclude=/usr/share/doc/*"}
	files := func(v string) map[string]string {
		return map[string]string{
			"usr/bin/tool":              "#!/bin/sh\necho tool " + v + "\n",
			"usr/share/doc/tool/README": "doc " + v + "\n",
			"etc/cron.daily/tool":       "#!/bin/sh\necho cron " + v + "\n",
			"DEBIAN/conffiles":          "/etc/cron.daily/tool\n",
		}
	}
	out, err := d.dpkg("--unpack", d.build("tool", files("1")))
	if err != nil {
		t.Fatalf("dpkg --unpack: %v\n%s", err, out)
	}
	if !strings.Contains(out, "imaboot-dpkg-deb: tool: 2 labeled, 0 already labeled, 1 not extracted by dpkg") {
		t.Errorf("the excluded file is not counted as not extracted:\n%s", out)
	}
	if !d.signed("etc/cron.daily/tool.dpkg-new") || !strings.Contains(out, "summary: 1 packages, 0 labeled, 2 verified, 0 mismatches, 0 packages without manifest, 0 unsigned files, 1 signed files not on disk") {
		t.Errorf("the new conffile, waiting as .dpkg-new, is not labeled or not checked there:\n%s", out)
	}
	if out, err := d.dpkg("--configure", "tool"); err != nil {
		t.Fatalf("dpkg --configure: %v\n%s", err, out)
	}
	if !d.signed("etc/cron.daily/tool") {
		t.Error("the conffile lost its label on --configure")
	}
	if _, err := os.Lstat(d.at("usr/share/doc/tool/README")); err == nil {
		t.Error("path-exclude did not apply")
	}
	if !d.signed("usr/bin/tool") {
		t.Errorf("usr/bin/tool not labeled\n%s", out)
	}

	if b, err := exec.Command("dpkg-divert", "--root="+d.root, "--local", "--rename", "--divert", "/usr/bin/tool.distrib", "--add", "/usr/bin/tool").CombinedOutput(); err != nil {
		t.Fatalf("dpkg-divert: %v\n%s", err, b)
	}
	d.control["tool"] = "Version: 2\nArchitecture: all\n"
	out, err = d.dpkg("-i", d.build("tool", files("2")))
	if err != nil {
		t.Fatalf("dpkg -i of version 2: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(d.at("usr/bin/tool.distrib")); !strings.Contains(string(b), "tool 2") {
		t.Fatalf("the diverted name does not hold version 2: %q", b)
	}
	if !d.signed("usr/bin/tool.distrib") {
		t.Errorf("the diverted file is not labeled\n%s", out)
	}
	if _, err := os.Lstat(d.at("usr/bin/tool")); err == nil {
		t.Error("dpkg wrote the diverted path itself")
	}
}
