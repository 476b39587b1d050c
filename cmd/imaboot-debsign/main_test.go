package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/internal/cli"
)

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--help"}, cli.ExitOK, usageSign},
		{[]string{"keypkg", "--help"}, cli.ExitOK, usageKeypkg},
		{[]string{"x.deb"}, cli.ExitUsage, ""},
		{[]string{"--key", "k", "--cert", "c", "--hash", "md5", "x.deb"}, cli.ExitUsage, ""},
		{[]string{"--bogus"}, cli.ExitUsage, ""},
		{[]string{"keypkg", "--name", "x"}, cli.ExitUsage, ""},
		{[]string{"mirror", "--help"}, cli.ExitOK, usageMirror},
		{[]string{"mirror"}, cli.ExitUsage, ""},
		{[]string{"mirror", "--bogus"}, cli.ExitUsage, ""},
		{[]string{"mirror", "--config", "/nonexistent.conf"}, cli.ExitUsage, ""},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != tc.code || out.String() != tc.out {
			t.Errorf("%v: exit %d, stdout %q (stderr %s)", tc.args, code, out.String(), errb.String())
		}
	}
	// Every flag (and alias) is in the help text.
	var a signArgs
	signFlags(&a).VisitAll(func(f *flag.Flag) {
		name := "--" + f.Name
		if len(f.Name) == 1 {
			name = "-" + f.Name
		}
		if !regexp.MustCompile(`[ (]` + regexp.QuoteMeta(name) + `[ ,]`).MatchString(usageSign) {
			t.Errorf("usage lacks %s", name)
		}
	})
	for _, f := range []string{"keypkg", "--name", "--version", "mirror", "--ca CA"} {
		if !strings.Contains(usageSign, f) {
			t.Errorf("usage lacks %s", f)
		}
	}
	// Every mirror flag and config key is in its help text.
	for _, f := range []string{"--config", "--upstream", "Upstream:", "--basedir", "Basedir:", "--suites", "Suites:", "--components", "Components:",
		"--architectures", "Architectures:", "--signing-key", "Signingkey:", "--signing-key-passphrase-file", "SigningkeyPasswordFile:",
		"--key", "Key:", "--cert", "Certificate:", "--hash-algo", "--hash", "Hash:", "--workers", "Workers:", "--threads", "Threads:", "--upstream-keyring", "UpstreamKeyring:",
		"--allow-unverified-upstream", "AllowUnverifiedUpstream:", "--origin", "Origin", "--label", "Label", "--keypkg-name", "KeyPackage:",
		"--keypkg-version", "KeyPackageVersion", "--publish-unsigned", "PublishUnsigned:", "-q", "--quiet"} {
		if !strings.Contains(usageMirror, f) {
			t.Errorf("mirror usage lacks %s", f)
		}
	}
}

// A repository: two packages signed, one corrupt (exit 1), indexes regenerated.
func TestRepo(t *testing.T) {
	fixture.NeedTools(t, "openssl", "dpkg-deb", "apt-ftparchive")
	dir := t.TempDir()
	k, err := fixture.NewSigningKey(dir, "k", "rsa")
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "repo")
	pool := filepath.Join(repo, "pool")
	for _, n := range []string{"one", "two"} {
		src := filepath.Join(dir, n)
		os.MkdirAll(filepath.Join(src, "DEBIAN"), 0o755)
		os.MkdirAll(filepath.Join(src, "usr/bin"), 0o755)
		os.WriteFile(filepath.Join(src, "DEBIAN/control"), []byte("Package: "+n+"\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: d\n d\n"), 0o644)
		os.WriteFile(filepath.Join(src, "usr/bin", n), []byte("#!/bin/sh\n"), 0o755)
		os.MkdirAll(pool, 0o755)
		if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-b", src, filepath.Join(pool, n+"_1_all.deb")).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--key", k.Key, "--cert", k.CertPEM, "--repo", repo}, &out, &errb); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"Packages", "Packages.gz", "Release"} {
		if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
			t.Error(err)
		}
	}
	pk, _ := os.ReadFile(filepath.Join(repo, "Packages"))
	rel, _ := os.ReadFile(filepath.Join(repo, "Release"))
	signed, _ := os.ReadFile(filepath.Join(pool, "one_1_all.deb"))
	if !bytes.Contains(pk, []byte("Package: one")) || !bytes.Contains(pk, []byte("Size: "+strconv.Itoa(len(signed)))) {
		t.Errorf("Packages does not index the signed package:\n%s", pk)
	}
	if !bytes.Contains(rel, []byte("Packages.gz")) {
		t.Errorf("Release:\n%s", rel)
	}
	if !strings.Contains(errb.String(), "2 packages signed, 0 failed") {
		t.Errorf("summary: %s", errb.String())
	}
	os.WriteFile(filepath.Join(pool, "bad_1_all.deb"), []byte("!<arch>\nshort"), 0o644)
	errb.Reset()
	if code := run([]string{"--key", k.Key, "--cert", k.CertPEM, pool}, &out, &errb); code != cli.ExitFailed || !strings.Contains(errb.String(), "bad_1_all.deb") {
		t.Errorf("corrupt package: exit %d, %s", code, errb.String())
	}
}

// The mirror from a config file, flags overriding it: exit 0, then 1 with
// a corrupt upstream package named, then 2 with an upstream Release that
// does not verify.
func TestMirrorExitCodes(t *testing.T) {
	fixture.NeedTools(t, "openssl", "dpkg-deb", "apt-ftparchive")
	dir := t.TempDir()
	a, err := fixture.NewArchive(filepath.Join(dir, "upstream"), filepath.Join(dir, "upstream-keys"), "stable")
	if err != nil {
		t.Fatal(err)
	}
	var pool []string
	for _, n := range []string{"one", "two"} {
		d, err := fixture.BuildDeb(dir, n, "1")
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.Add(d)
		if err != nil {
			t.Fatal(err)
		}
		pool = append(pool, p)
	}
	if err := a.Index(); err != nil {
		t.Fatal(err)
	}
	k, err := fixture.NewSigningKey(dir, "ima", "rsa")
	if err != nil {
		t.Fatal(err)
	}
	pgp, _, err := fixture.NewOpenPGPKey(dir, "mirror")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "mirror.conf")
	os.WriteFile(conf, []byte("Upstream: upstream\nBasedir: /nonexistent/overridden\nSuites: stable\nComponents: main\nArchitectures: amd64\n"+
		"Signingkey: "+pgp+"\nKey: "+k.Key+"\nCertificate: "+k.CertPEM+"\nUpstreamKeyring: "+a.Keyring+"\nOrigin: Site\n"), 0o644)
	base := filepath.Join(dir, "mirror")
	var out, errb bytes.Buffer
	// Unusable input is found before anything is written: a negative
	// --threads (the older spelling of --workers), a key package name dpkg
	// refuses (found only after signing every package, before).
	for _, bad := range [][]string{{"--threads", "-3"}, {"--workers", "-1"}, {"--keypkg-name", "Not_A_Package"}} {
		errb.Reset()
		fresh := filepath.Join(dir, "fresh")
		args := append([]string{"mirror", "--config", conf, "--basedir", fresh, "-q"}, bad...)
		if code := run(args, &out, &errb); code != cli.ExitUsage || strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
			t.Errorf("%v: exit %d, want 2 and one line: %s", bad, code, errb.String())
		}
		if _, err := os.Stat(fresh); err == nil {
			t.Errorf("%v: %s was written", bad, fresh)
			os.RemoveAll(fresh)
		}
	}
	if code := run([]string{"mirror", "--config", conf, "--basedir", base, "-q"}, &out, &errb); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "2 signed") || !strings.Contains(errb.String(), "3 published") {
		t.Errorf("summary: %s", errb.String())
	}
	if _, err := os.Stat(filepath.Join(base, "dists/stable/InRelease")); err != nil {
		t.Error(err)
	}
	b, _ := os.ReadFile(filepath.Join(a.Dir, pool[1]))
	b[len(b)-5] ^= 1
	os.WriteFile(filepath.Join(a.Dir, pool[1]), b, 0o644)
	// (A fresh mirror: the first one signed it intact and reuses that.)
	errb.Reset()
	if code := run([]string{"mirror", "--config", conf, "--basedir", base + "2", "-q"}, &out, &errb); code != cli.ExitFailed || !strings.Contains(errb.String(), "FAILED "+pool[1]+": corrupt") {
		t.Errorf("corrupt package: exit %d: %s", code, errb.String())
	}
	os.WriteFile(filepath.Join(a.Dir, "dists/stable/InRelease"), []byte("Origin: Evil\n"), 0o644)
	for _, b := range []string{base, filepath.Join(dir, "fresh")} {
		errb.Reset()
		if code := run([]string{"mirror", "--config", conf, "--basedir", b, "-q"}, &out, &errb); code != cli.ExitUsage || !strings.Contains(errb.String(), "nothing published") {
			t.Errorf("unsigned upstream InRelease: exit %d: %s", code, errb.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "fresh")); err == nil {
		t.Error("an upstream that does not verify: the mirror's state directory was made")
	}
}
