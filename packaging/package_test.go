// Package packaging holds the tests of imaboot's Debian package (make deb,
// scripts/mkdeb, packaging/deb). Its install, upgrade, removal and purge
// with the real dpkg are in integration/distro (TestPackageLifecycle), in a
// copy of a debootstrapped root.
package packaging

import (
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// build runs scripts/mkdeb with the binaries of bin into a new folder and
// returns the package's path.
func build(t *testing.T, bin, version string) string {
	t.Helper()
	out := t.TempDir()
	// gzip: xz takes most of a build's time, and is not what is tested here.
	cmd := exec.Command("../scripts/mkdeb", "OUT="+out, "BIN="+bin, "VERSION="+version, "COMPRESS=gzip")
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/mkdeb: %v\n%s", err, b)
	}
	deb := strings.TrimSpace(string(b))
	if _, err := os.Stat(deb); err != nil {
		t.Fatalf("scripts/mkdeb printed %q: %v", deb, err)
	}
	return deb
}

// binaries builds every command into a temporary folder.
func binaries(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin+"/", "../cmd/...")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return string(b)
}

// TestDebMatchesInstall: the package holds what scripts/install (make
// install) installs with PREFIX=/usr, documentation compressed, plus only
// the files a Debian package adds (copyright, changelog, manual pages,
// lintian overrides); /etc/imaboot/imaboot.conf is its one conffile; the
// control fields and maintainer scripts are there; the same sources build
// the same bytes; lintian (when installed) finds nothing.
func TestDebMatchesInstall(t *testing.T) {
	bin := binaries(t)
	deb := build(t, bin, "1.2.3")
	if !strings.HasPrefix(filepath.Base(deb), "imaboot_1.2.3_") {
		t.Errorf("package name %s", filepath.Base(deb))
	}

	dest := t.TempDir()
	cmd := exec.Command("../scripts/install", "DESTDIR="+dest, "PREFIX=/usr", "BIN="+bin)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/install: %v\n%s", err, b)
	}
	var installed []string
	filepath.Walk(dest, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(dest, p)
			if strings.HasPrefix(rel, "usr/share/doc/") {
				rel += ".gz"
			}
			installed = append(installed, "/"+rel)
		}
		return nil
	})
	var packaged []string
	list := run(t, "sh", "-c", `dpkg-deb --fsys-tarfile "$1" | tar -t`, "sh", deb)
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		if !strings.HasSuffix(l, "/") {
			packaged = append(packaged, strings.TrimPrefix(l, "."))
		}
	}
	packageOnly := func(p string) bool {
		return p == "/usr/share/doc/imaboot/copyright" || p == "/usr/share/doc/imaboot/changelog.gz" ||
			strings.HasPrefix(p, "/usr/share/man/man8/") || p == "/usr/share/lintian/overrides/imaboot"
	}
	want := map[string]bool{}
	for _, p := range installed {
		want[p] = true
	}
	got := map[string]bool{}
	for _, p := range packaged {
		got[p] = true
		if !want[p] && !packageOnly(p) {
			t.Errorf("the package has %s, which make install does not install", p)
		}
	}
	for _, p := range installed {
		if !got[p] {
			t.Errorf("make install installs %s, the package does not", p)
		}
	}
	for _, c := range []string{"imaboot-init", "imaboot-relabel", "imaboot-dpkg-hooks", "imaboot-debsign", "imaboot-policygen", "imaboot-seal", "imaboot-mkinitramfs"} {
		if !got["/usr/share/man/man8/"+c+".8.gz"] {
			t.Errorf("no manual page for %s", c)
		}
	}

	ctl := t.TempDir()
	run(t, "dpkg-deb", "--control", deb, ctl)
	if b, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); string(b) != "/etc/imaboot/imaboot.conf\n" {
		t.Errorf("conffiles: %q", b)
	}
	for _, s := range []string{"preinst", "postinst", "prerm", "postrm"} {
		st, err := os.Stat(filepath.Join(ctl, s))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("maintainer script %s: %v %v", s, st, err)
		}
	}
	for field, want := range map[string]string{"Package": "imaboot", "Version": "1.2.3", "Depends": "dpkg (>= 1.21), passwd", "Section": "admin"} {
		if got := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("control field %s: %q, want %q", field, got, want)
		}
	}
	sums := map[string]bool{}
	b, _ := os.ReadFile(filepath.Join(ctl, "md5sums"))
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			sums["/"+f[1]] = true
		}
	}
	for _, p := range packaged {
		if strings.HasPrefix(p, "/usr/") && !sums[p] {
			t.Errorf("md5sums lacks %s", p)
		}
	}

	// Reproducible: the same commit, version and time stamp give the same bytes.
	again := build(t, bin, "1.2.3")
	if a, b := digest(t, deb), digest(t, again); !bytes.Equal(a, b) {
		t.Errorf("two builds of the same sources differ")
	}

	if _, err := exec.LookPath("lintian"); err != nil {
		t.Fatal("lintian is not installed (Debian package lintian; scripts/setup-host installs it)")
	}
	out, err := exec.Command("lintian", "--pedantic", "--display-info", deb).CombinedOutput()
	var tags []string
	for _, l := range strings.Split(string(out), "\n") {
		if len(l) > 2 && l[1] == ':' && strings.ContainsRune("EWIP", rune(l[0])) {
			tags = append(tags, l)
		}
	}
	sort.Strings(tags)
	if err != nil || len(tags) > 0 {
		t.Errorf("lintian: %v\n%s", err, strings.Join(tags, "\n"))
	}
}

func digest(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(b)
	return d[:]
}
