package dpkglabel_test

import (
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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

// TestRealDpkg installs a signed .deb with the real dpkg into a throw-away
// root, dpkg-deb being the shim and the post-invoke hook imaboot-relabel
// --from-dpkg --pending: the preinst carries its signature when it runs,
// the data files and the postinst after the unpack; a file whose content
// does not match its signature is not labeled and makes dpkg fail.
func TestRealDpkg(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (security.ima, dpkg --root)")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "openssl", "getfattr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	s := newSigner(t)
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	os.Mkdir(bin, 0o755)
	shim := goBuild(t, work, "github.com/imaboot/imaboot/cmd/imaboot-dpkg-deb")
	if err := os.Symlink(shim, filepath.Join(bin, "dpkg-deb")); err != nil {
		t.Fatal(err)
	}
	relabelBin := goBuild(t, work, "github.com/imaboot/imaboot/cmd/imaboot-relabel")
	realDeb, _ := exec.LookPath("dpkg-deb")

	root := filepath.Join(work, "root")
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	writeFiles(t, root, map[string]string{"var/lib/dpkg/status": "", "var/lib/dpkg/available": ""})
	seen := filepath.Join(work, "preinst.ima")

	control := map[string]string{}
	build := func(name string, wrong ...string) string {
		dir := filepath.Join(work, name)
		os.RemoveAll(dir)
		if control[name] == "" {
			control[name] = "Version: 1\nArchitecture: all\n"
		}
		writeFiles(t, dir, map[string]string{
			"DEBIAN/control":                    "Package: " + name + "\n" + control[name] + "Maintainer: t <t@example.org>\nDescription: test\n",
			"DEBIAN/preinst":                    "#!/bin/sh\ngetfattr --absolute-names -n security.ima -e hex --only-values \"$0\" > " + seen + "." + name + "\n",
			"DEBIAN/postinst":                   "#!/bin/sh\nexit 0\n",
			"usr/bin/" + name:                   "#!/bin/sh\necho " + name + " " + strings.ReplaceAll(control[name], "\n", " ") + "\n",
			"usr/share/doc/" + name + "/README": "data of " + name + "\n",
		})
		signTree(t, s, dir, wrong...)
		deb := filepath.Join(work, name+".deb")
		if b, err := exec.Command(realDeb, "--root-owner-group", "-b", dir, deb).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -b: %v\n%s", err, b)
		}
		return deb
	}
	dpkg := func(args ...string) (string, error) {
		// The same line as dpkg/dpkg.cfg.d/imaboot: dpkg sets DPKG_ROOT for hooks.
		hook := relabelBin + " --from-dpkg --pending --root ${DPKG_ROOT:-/}"
		all := append([]string{"--root=" + root, "--force-script-chrootless", "--force-not-root", "--post-invoke=" + hook}, args...)
		cmd := exec.Command("dpkg", all...)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "IMABOOT_DPKG_DEB="+realDeb)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}

	out, err := dpkg("--unpack", build("good"))
	if err != nil {
		t.Fatalf("dpkg --unpack: %v\n%s", err, out)
	}
	got, err := os.ReadFile(seen + ".good")
	if err != nil || !bytes.HasPrefix(got, []byte{byte(relabel.TypeSignature), 2}) {
		t.Errorf("preinst ran with security.ima %x (%v), want a v2 signature\n%s", got, err, out)
	}
	for _, f := range []string{"usr/bin/good", "usr/share/doc/good/README", "var/lib/dpkg/info/good.postinst", "var/lib/dpkg/info/good.preinst"} {
		l := ima(t, filepath.Join(root, f))
		if len(l) == 0 || l[0] != byte(relabel.TypeSignature) {
			t.Errorf("%s: security.ima %x after the unpack, want a signature\n%s", f, l, out)
		}
	}
	// The shim labeled both scripts in tmp.ci (dpkg renames them into info/,
	// labels kept): the hook finds them verified and labels the two data files.
	if !strings.Contains(out, "summary: 1 packages, 2 labeled, 2 verified, 0 mismatches") {
		t.Errorf("hook output lacks the summary of one package, 2 data files labeled, 2 scripts verified:\n%s", out)
	}
	if out, err := dpkg("--configure", "good"); err != nil {
		t.Fatalf("dpkg --configure: %v\n%s", err, out)
	}

	// A data file whose content is not what was signed: not labeled, dpkg fails.
	out, err = dpkg("--unpack", build("bad", "/usr/bin/bad"))
	if err == nil {
		t.Errorf("dpkg --unpack of a package with a mismatching file succeeded:\n%s", out)
	}
	if !strings.Contains(out, "mismatch bad:") || !strings.Contains(out, "usr/bin/bad") {
		t.Errorf("the mismatch is not reported:\n%s", out)
	}
	if l := ima(t, filepath.Join(root, "usr/bin/bad")); l != nil {
		t.Errorf("usr/bin/bad was labeled %x despite the mismatch", l)
	}
	if l := ima(t, filepath.Join(root, "usr/share/doc/bad/README")); len(l) == 0 {
		t.Errorf("the matching file of the bad package was not labeled")
	}
	if !bytes.Contains([]byte(out), []byte("summary: 1 packages")) {
		t.Errorf("--pending handled other packages than the unpacked one:\n%s", out)
	}

	// An upgrade (new content, the new preinst runs as "upgrade") of a
	// Multi-Arch: same package, whose info files are NAME:ARCH.*.
	// The pending bad package would fail every later run's hook: remove it.
	if out, err := dpkg("--remove", "bad"); err != nil {
		t.Fatalf("dpkg --remove bad: %v\n%s", err, out)
	}
	os.Remove(seen + ".good")
	control["good"] = "Version: 2\nArchitecture: amd64\nMulti-Arch: same\n"
	out, err = dpkg("--unpack", build("good"))
	if err != nil {
		t.Fatalf("dpkg --unpack of version 2: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(seen + ".good"); !bytes.HasPrefix(got, []byte{byte(relabel.TypeSignature), 2}) {
		t.Errorf("the upgrade's preinst ran with security.ima %x\n%s", got, out)
	}
	for _, f := range []string{"usr/bin/good", "var/lib/dpkg/info/good:amd64.postinst"} {
		if l := ima(t, filepath.Join(root, f)); len(l) == 0 || l[0] != byte(relabel.TypeSignature) {
			t.Errorf("%s: security.ima %x after the upgrade\n%s", f, l, out)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "usr/bin/good")); !strings.Contains(string(b), "Version: 2") {
		t.Errorf("usr/bin/good is not version 2: %q", b)
	}
	if !strings.Contains(out, "summary: 1 packages, 2 labeled, 2 verified, 0 mismatches") {
		t.Errorf("the hook did not label the upgrade's two new files:\n%s", out)
	}
	if out, err := dpkg("--configure", "-a"); err != nil {
		t.Fatalf("dpkg --configure -a: %v\n%s", err, out)
	}
}
