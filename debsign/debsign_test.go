package debsign

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/ownerca"
	"github.com/imaboot/imaboot/relabel"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func write(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, mode)
}

// buildDeb makes a package with dpkg-deb: a program, a conffile, a plain
// /etc file, an executable under /etc, a hard link, a symlink, a postinst.
func buildDeb(t *testing.T, dir, name, extraControl string, dpkgDebArgs ...string) string {
	t.Helper()
	fixture.NeedTools(t, "dpkg-deb")
	src := filepath.Join(dir, name+"-src")
	write(t, filepath.Join(src, "DEBIAN/control"), "Package: "+name+"\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: test\n test package\n"+extraControl, 0o644)
	write(t, filepath.Join(src, "DEBIAN/conffiles"), "/etc/"+name+".conf\n", 0o644)
	write(t, filepath.Join(src, "DEBIAN/postinst"), "#!/bin/sh\nexit 0\n", 0o755)
	write(t, filepath.Join(src, "usr/bin/"+name), "#!/bin/sh\necho "+name+"\n", 0o755)
	write(t, filepath.Join(src, "usr/share/doc/"+name+"/README"), "read me\n", 0o644)
	write(t, filepath.Join(src, "etc/"+name+".conf"), "x=1\n", 0o644)
	write(t, filepath.Join(src, "etc/default/"+name), "Y=2\n", 0o644)
	write(t, filepath.Join(src, "etc/cron.daily/"+name), "#!/bin/sh\n:\n", 0o755)
	if err := os.Link(filepath.Join(src, "usr/bin/"+name), filepath.Join(src, "usr/bin/"+name+"-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(name, filepath.Join(src, "usr/bin/"+name+"-sym")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+".deb")
	run(t, "dpkg-deb", append(append([]string{"--root-owner-group"}, dpkgDebArgs...), "--build", src, out)...)
	return out
}

func newKey(t testing.TB, dir, alg string) (fixture.SigningKey, *relabel.Signer) {
	t.Helper()
	fixture.NeedTools(t, "openssl")
	k, err := fixture.NewSigningKey(dir, "key-"+alg, alg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := relabel.LoadSigner(k.Key, k.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	return k, s
}

func manifestOf(t *testing.T, path string) *imasigs.Manifest {
	t.Helper()
	p, err := deb.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(p)
	if err != nil || m == nil {
		t.Fatalf("manifest of %s: %v %v", path, m, err)
	}
	return m
}

func TestSignRules(t *testing.T) {
	dir := t.TempDir()
	in := buildDeb(t, dir, "tool", "")
	_, s := newKey(t, dir, "rsa")
	out := filepath.Join(dir, "signed.deb")
	res, err := SignFile(in, out, s, relabel.AlgoSHA256)
	if err != nil {
		t.Fatal(err)
	}
	m := manifestOf(t, out)
	want := []string{"/etc/cron.daily/tool", "/usr/bin/tool", "/usr/bin/tool-link", "/usr/share/doc/tool/README", "DEBIAN/postinst"}
	var got []string
	for _, e := range m.Entries {
		got = append(got, e.Path)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("signed %v, want %v", got, want)
	}
	if res.Signed != len(want) || res.Mutable != 2 {
		t.Errorf("result %+v, want %d signed, 2 mutable (the conffile, /etc/default/tool)", res, len(want))
	}
	a, _ := m.Lookup("/usr/bin/tool")
	b, _ := m.Lookup("/usr/bin/tool-link")
	if !bytes.Equal(a.Digest, b.Digest) {
		t.Error("the hard link's digest is not its target's")
	}
	// data.tar is copied byte for byte.
	pi, _ := deb.ReadFile(in)
	po, _ := deb.ReadFile(out)
	if pi.DataName() != po.DataName() || !bytes.Equal(pi.Members[2].Data, po.Members[2].Data) {
		t.Error("data.tar changed")
	}
}

// The labels are what evmctl ima_sign writes for the same key and file.
func TestLabelsMatchEvmctl(t *testing.T) {
	fixture.NeedTools(t, "evmctl")
	dir := t.TempDir()
	in := buildDeb(t, dir, "tool", "")
	for _, tc := range []struct{ alg, hash string }{{"rsa", "sha256"}, {"rsa", "sha512"}, {"ec", "sha256"}} {
		t.Run(tc.alg+"-"+tc.hash, func(t *testing.T) {
			k, s := newKey(t, dir, tc.alg)
			algo, _ := relabel.ParseHashAlgo(tc.hash)
			out := filepath.Join(dir, tc.alg+tc.hash+".deb")
			if _, err := SignFile(in, out, s, algo); err != nil {
				t.Fatal(err)
			}
			m := manifestOf(t, out)
			for path, file := range map[string]string{"/usr/bin/tool": "tool-src/usr/bin/tool", "DEBIAN/postinst": "tool-src/DEBIAN/postinst"} {
				f := filepath.Join(dir, file)
				os.Remove(f + ".sig")
				run(t, "evmctl", "ima_sign", "--sigfile", "--key", k.Key, "-a", tc.hash, f)
				theirs, err := os.ReadFile(f + ".sig")
				if err != nil {
					t.Fatal(err)
				}
				e, ok := m.Lookup(path)
				if !ok {
					t.Fatalf("%s not signed", path)
				}
				if tc.alg == "rsa" && !bytes.Equal(e.Label, theirs) {
					t.Errorf("%s: label %x\nevmctl   %x", path, e.Label, theirs)
				}
				// ECDSA signatures are randomised: the header must agree and
				// evmctl must accept ours.
				if !bytes.Equal(e.Label[:7], theirs[:7]) {
					t.Errorf("%s: header %x, evmctl %x", path, e.Label[:7], theirs[:7])
				}
				if err := os.WriteFile(f+".sig", e.Label, 0o644); err != nil {
					t.Fatal(err)
				}
				run(t, "evmctl", "ima_verify", "--sigfile", "--key", k.CertDER, f)
				// Evidence the check can fail: one flipped signature byte.
				bad := append([]byte(nil), e.Label...)
				bad[len(bad)-1] ^= 1
				os.WriteFile(f+".sig", bad, 0o644)
				if out, err := exec.Command("evmctl", "ima_verify", "--sigfile", "--key", k.CertDER, f).CombinedOutput(); err == nil {
					t.Errorf("%s: evmctl accepted a changed signature: %s", path, out)
				}
				want := digestFile(t, algo, f)
				if !bytes.Equal(e.Digest, want) {
					t.Errorf("%s: digest %x, want %x", path, e.Digest, want)
				}
			}
		})
	}
}

func digestFile(t *testing.T, algo relabel.HashAlgo, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return digest(algo, b)
}

// dpkg-deb accepts the signed package and dpkg keeps the manifest.
func TestDpkgInstallsSigned(t *testing.T) {
	fixture.NeedTools(t, "dpkg", "dpkg-deb")
	for _, tc := range []struct{ extra, info string }{{"", "tool.imasigs"}, {"Multi-Arch: same\n", "tool:amd64.imasigs"}} {
		dir := t.TempDir()
		in := buildDeb(t, dir, "tool", tc.extra)
		_, s := newKey(t, dir, "rsa")
		if _, err := SignFile(in, in, s, relabel.AlgoSHA256); err != nil {
			t.Fatal(err)
		}
		if info := run(t, "dpkg-deb", "--info", in); !strings.Contains(info, "imasigs") {
			t.Errorf("dpkg-deb --info lists no imasigs:\n%s", info)
		}
		if c := run(t, "dpkg-deb", "--contents", in); !strings.Contains(c, "./usr/bin/tool") {
			t.Errorf("dpkg-deb --contents:\n%s", c)
		}
		root := filepath.Join(dir, "root")
		for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
			os.MkdirAll(filepath.Join(root, d), 0o755)
		}
		write(t, filepath.Join(root, "var/lib/dpkg/status"), "", 0o644)
		run(t, "dpkg", "--root="+root, "--force-not-root", "--force-depends", "--force-script-chrootless", "--log=/dev/null", "-i", in)
		kept, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/info", tc.info))
		if err != nil {
			t.Fatalf("dpkg did not keep the manifest: %v", err)
		}
		m, err := imasigs.Parse(bytes.NewReader(kept))
		if err != nil {
			t.Fatal(err)
		}
		want := manifestOf(t, in)
		if len(m.Entries) != len(want.Entries) || len(m.Entries) == 0 {
			t.Errorf("kept %d entries, package holds %d", len(m.Entries), len(want.Entries))
		}
		if _, err := os.Stat(filepath.Join(root, "usr/bin/tool")); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
}

func TestResignReplaces(t *testing.T) {
	dir := t.TempDir()
	in := buildDeb(t, dir, "tool", "")
	_, s := newKey(t, dir, "rsa")
	if _, err := SignFile(in, in, s, relabel.AlgoSHA256); err != nil {
		t.Fatal(err)
	}
	first := manifestOf(t, in)
	if _, err := SignFile(in, in, s, relabel.AlgoSHA512); err != nil {
		t.Fatal(err)
	}
	p, _ := deb.ReadFile(in)
	ctl, _ := p.ControlFiles()
	n := 0
	for _, f := range ctl {
		if f.Name() == imasigs.ControlMember {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d imasigs members after re-signing", n)
	}
	second := manifestOf(t, in)
	if len(second.Entries) != len(first.Entries) || second.Entries[0].Algo != relabel.AlgoSHA512 {
		t.Errorf("re-signed manifest: %d entries in %s, first had %d", len(second.Entries), second.Entries[0].Algo, len(first.Entries))
	}
}

func TestCorruptInputLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	in := buildDeb(t, dir, "tool", "")
	_, s := newKey(t, dir, "rsa")
	good, _ := os.ReadFile(in)
	p, _ := deb.ReadFile(in)
	noData := &bytes.Buffer{}
	deb.WriteAr(noData, p.Members[:2])
	badTar := append([]deb.Member(nil), p.Members...)
	badTar[2] = deb.Member{Name: "data.tar", Data: bytes.Repeat([]byte("garbage!"), 200)}
	badTarBuf := &bytes.Buffer{}
	deb.WriteAr(badTarBuf, badTar)
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"truncated ar":     {good[:len(good)-100], "truncated"},
		"bad tar member":   {badTarBuf.Bytes(), "member data.tar: bad tar entry"},
		"missing data.tar": {noData.Bytes(), "missing data.tar"},
		"not a deb":        {[]byte("hello"), "magic"},
	} {
		sub := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		os.Mkdir(sub, 0o755)
		bad := filepath.Join(sub, "bad.deb")
		os.WriteFile(bad, tc.b, 0o644)
		out := filepath.Join(sub, "out.deb")
		_, err := SignFile(bad, out, s, relabel.AlgoSHA256)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: error %v, want one naming %s and %q", name, err, bad, tc.want)
		}
		if ents, _ := os.ReadDir(sub); len(ents) != 1 {
			t.Errorf("%s: left %d files in the output directory", name, len(ents)-1)
		}
		if b, _ := os.ReadFile(bad); !bytes.Equal(b, tc.b) {
			t.Errorf("%s: input changed", name)
		}
	}
}

func TestKeyPackage(t *testing.T) {
	fixture.NeedTools(t, "dpkg", "dpkg-deb")
	dir := t.TempDir()
	k, _ := newKey(t, dir, "rsa")
	c, err := LoadCert(k.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	// -o names a folder that does not exist yet (docs/debian.md's pool/).
	p, err := WriteKeyPackage(KeyPackage{Name: "site", Version: "1:2.0", Cert: c}, filepath.Join(dir, "pool"))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "site-ima-signing-key_2.0_all.deb" || filepath.Dir(p) != filepath.Join(dir, "pool") {
		t.Errorf("file name %s", p)
	}
	run(t, "dpkg-deb", "--info", p)
	// A new certificate must reach the initramfs: the package activates
	// initramfs-tools' and dracut's trigger.
	if trig := run(t, "dpkg-deb", "-I", p, "triggers"); trig != "activate-noawait update-initramfs\n" {
		t.Errorf("triggers member %q", trig)
	}
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "var/lib/dpkg/info"), 0o755)
	os.MkdirAll(filepath.Join(root, "var/lib/dpkg/updates"), 0o755)
	write(t, filepath.Join(root, "var/lib/dpkg/status"), "", 0o644)
	run(t, "dpkg", "--root="+root, "--force-not-root", "--log=/dev/null", "-i", p)
	got, err := os.ReadFile(filepath.Join(root, "etc/keys/ima/site.der"))
	want, _ := os.ReadFile(k.CertDER)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("installed certificate differs from openssl's DER (%v)", err)
	}
	if _, err := WriteKeyPackage(KeyPackage{Name: "Bad Name", Version: "1", Cert: c}, dir); err == nil {
		t.Error("a bad name was accepted")
	}
}

// With the owner's CA, the package ships the CA's certificate beside the
// release certificate, and refuses a certificate the CA did not sign.
func TestKeyPackageWithCA(t *testing.T) {
	fixture.NeedTools(t, "dpkg", "dpkg-deb")
	dir := t.TempDir()
	ca, err := ownerca.NewCA(ownerca.Options{Subject: "site CA", Bits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := ownerca.Issue(ca, ownerca.Options{Subject: "site release"})
	if err != nil {
		t.Fatal(err)
	}
	caFiles, _ := ca.Write(filepath.Join(dir, "ca"))
	relFiles, _ := rel.Write(filepath.Join(dir, "release"))
	caCert, err := LoadCert(caFiles.PEM)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCert(relFiles.PEM)
	if err != nil {
		t.Fatal(err)
	}
	p, err := WriteKeyPackage(KeyPackage{Name: "site", Version: "3", Cert: c, CA: &caCert}, dir)
	if err != nil {
		t.Fatal(err)
	}
	info := run(t, "dpkg-deb", "--info", p)
	if !strings.Contains(info, "TRUST_CA="+ownerca.KeyID(ca.Cert)) {
		t.Errorf("description does not give TRUST_CA:\n%s", info)
	}
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "var/lib/dpkg/info"), 0o755)
	os.MkdirAll(filepath.Join(root, "var/lib/dpkg/updates"), 0o755)
	write(t, filepath.Join(root, "var/lib/dpkg/status"), "", 0o644)
	run(t, "dpkg", "--root="+root, "--force-not-root", "--log=/dev/null", "-i", p)
	for path, want := range map[string][]byte{"etc/keys/ima/site.der": rel.Cert.Raw, "usr/share/imaboot/ca/site.der": ca.Cert.Raw} {
		if got, err := os.ReadFile(filepath.Join(root, path)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v", path, err)
		}
	}
	run(t, "dpkg", "--root="+root, "--force-not-root", "--log=/dev/null", "-V", "site-ima-signing-key")

	self, _ := newKey(t, dir, "rsa")
	sc, _ := LoadCert(self.CertPEM)
	if _, err := WriteKeyPackage(KeyPackage{Name: "rogue", Version: "1", Cert: sc, CA: &caCert}, dir); err == nil || !strings.Contains(err.Error(), "refused under TRUST=ca") {
		t.Errorf("a certificate the CA did not sign: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rogue-ima-signing-key_1_all.deb")); err == nil {
		t.Error("a package was written for a refused certificate")
	}
}

// Every compression dpkg-deb writes here is read, and the control member
// keeps its compression.
func TestCompressions(t *testing.T) {
	dir := t.TempDir()
	_, s := newKey(t, dir, "rsa")
	for _, z := range []string{"xz", "gzip", "none", "zstd"} {
		in := buildDeb(t, dir, "tool-"+z, "", "-Z"+z)
		p, _ := deb.ReadFile(in)
		ctlName := p.ControlName()
		if _, err := SignFile(in, in, s, relabel.AlgoSHA256); err != nil {
			t.Fatalf("%s: %v", z, err)
		}
		q, _ := deb.ReadFile(in)
		if q.ControlName() != ctlName {
			t.Errorf("%s: control member %s became %s", z, ctlName, q.ControlName())
		}
		if info := run(t, "dpkg-deb", "--info", in, "imasigs"); !strings.HasPrefix(info, "# IMA signatures") {
			t.Errorf("%s: dpkg-deb --info imasigs: %s", z, info)
		}
		if n := len(manifestOf(t, in).Entries); n != 5 {
			t.Errorf("%s: %d entries", z, n)
		}
	}
}
