package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
)

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--help"}, exitOK, usageSign},
		{[]string{"keypkg", "--help"}, exitOK, usageKeypkg},
		{[]string{"x.deb"}, exitUsage, ""},
		{[]string{"--key", "k", "--cert", "c", "--hash", "md5", "x.deb"}, exitUsage, ""},
		{[]string{"--bogus"}, exitUsage, ""},
		{[]string{"keypkg", "--name", "x"}, exitUsage, ""},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != tc.code || out.String() != tc.out {
			t.Errorf("%v: exit %d, stdout %q (stderr %s)", tc.args, code, out.String(), errb.String())
		}
	}
	// Every flag is in the help text.
	for _, f := range []string{"--key", "--cert", "--hash", "-o OUT", "--repo", "-q", "keypkg", "--name", "--version"} {
		if !strings.Contains(usageSign, f) {
			t.Errorf("usage lacks %s", f)
		}
	}
}

// A repository: two packages signed, one corrupt (exit 1), indexes regenerated.
func TestRepo(t *testing.T) {
	for _, tool := range []string{"openssl", "dpkg-deb", "apt-ftparchive"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
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
	if code := run([]string{"--key", k.Key, "--cert", k.CertPEM, "--repo", repo}, &out, &errb); code != exitOK {
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
	if code := run([]string{"--key", k.Key, "--cert", k.CertPEM, pool}, &out, &errb); code != exitFailed || !strings.Contains(errb.String(), "bad_1_all.deb") {
		t.Errorf("corrupt package: exit %d, %s", code, errb.String())
	}
}
