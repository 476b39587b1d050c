package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func getLabel(t *testing.T, p, name string) []byte {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(p, name, buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// The README's first example, "imaboot-relabel /", on a tree signed with
// --sign --evm portable keeps every signature: the summary says how many,
// the exit status is 0, and verify still passes. --replace-signatures is
// the way to hash such files.
func TestHashModeKeepsSignatures(t *testing.T) {
	d := labelableDir(t)
	tree := filepath.Join(d, "tree")
	bin := filepath.Join(tree, "usr/bin/tool")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.WriteFile(bin, []byte("\x7fELF tool"), 0o755)
	os.WriteFile(filepath.Join(tree, "usr/data"), []byte("data"), 0o644)
	key, cert := filepath.Join(d, "k.pem"), filepath.Join(d, "c.pem")
	openssl(t, "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-subj", "/CN=k", "-keyout", key, "-out", cert)
	if code, out, errs := runCmd("--sign", "--evm", "portable", "--key", key, "--cert", cert, "--progress", "never", tree); code != 0 {
		t.Fatalf("sign: %d %s %s", code, out, errs)
	}
	ima, evm := getLabel(t, bin, "security.ima"), getLabel(t, bin, "security.evm")

	code, out, errs := runCmd("--progress", "never", "--no-dpkg", tree)
	if code != 0 || !strings.Contains(out, "2 files kept their signatures") {
		t.Errorf("hash mode on a signed tree: exit %d\n%s%s", code, out, errs)
	}
	if got := getLabel(t, bin, "security.ima"); string(got) != string(ima) || len(got) == 0 || got[0] != 0x03 {
		t.Errorf("security.ima became %x, was the signature %x", got, ima)
	}
	if got := getLabel(t, bin, "security.evm"); string(got) != string(evm) || len(got) == 0 || got[0] != 0x05 {
		t.Errorf("security.evm became %x, was the portable signature %x", got, evm)
	}
	if code, out, _ := runCmd("verify", "--progress", "never", "--cert", cert, tree); code != 0 {
		t.Errorf("verify after hash mode: exit %d\n%s", code, out)
	}

	code, out, errs = runCmd("--progress", "never", "--no-dpkg", "--replace-signatures", tree)
	if code != 0 || !strings.Contains(out, "2 labeled") {
		t.Errorf("--replace-signatures: exit %d\n%s%s", code, out, errs)
	}
	if got := getLabel(t, bin, "security.ima"); len(got) == 0 || got[0] != 0x04 || getLabel(t, bin, "security.evm") != nil {
		t.Errorf("--replace-signatures: security.ima %x, security.evm %x; want a hash and no EVM signature", got, getLabel(t, bin, "security.evm"))
	}
}

// A symlink given as PATH is followed (find -H), as on merged-/usr Debian
// where /bin -> usr/bin; symlinks under it are not.
func TestSymlinkPathIsFollowed(t *testing.T) {
	d := labelableDir(t)
	os.MkdirAll(filepath.Join(d, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(d, "usr/bin/a"), []byte("a"), 0o755)
	os.WriteFile(filepath.Join(d, "usr/bin/b"), []byte("b"), 0o755)
	os.MkdirAll(filepath.Join(d, "outside"), 0o755)
	os.WriteFile(filepath.Join(d, "outside/x"), []byte("x"), 0o755)
	os.Symlink("../../outside/x", filepath.Join(d, "usr/bin/out"))
	os.Symlink("usr/bin", filepath.Join(d, "bin"))
	os.Symlink("usr/bin/a", filepath.Join(d, "a-link"))

	code, out, errs := runCmd("--progress", "never", "--no-dpkg", filepath.Join(d, "bin"), filepath.Join(d, "a-link"))
	// bin/a and bin/b, then a again through a-link; bin/out is skipped.
	if code != 0 || !strings.HasPrefix(out, "3 files ") || !regexp.MustCompile(`: [23] labeled .* [01] already right, .* 1 skipped, 0 failed`).MatchString(out) {
		t.Errorf("label through /bin and a-link: exit %d\n%s%s", code, out, errs)
	}
	if getLabel(t, filepath.Join(d, "outside/x"), "security.ima") != nil {
		t.Error("a symlink under PATH was followed")
	}
	code, out, _ = runCmd("verify", "--progress", "never", filepath.Join(d, "bin"))
	if code != 0 || !strings.HasPrefix(out, "2 files: 2 verified, 0 failed") {
		t.Errorf("verify /bin: exit %d\n%s", code, out)
	}
	if code, _, errs := runCmd("verify", "--progress", "never", filepath.Join(d, "dangling")); code != 2 || !strings.Contains(errs, "no such file") {
		t.Errorf("a PATH that does not exist: exit %d, %s", code, errs)
	}
}

// Relabel's output: no mutable-files line for a tree that is not the
// host's root, each failing path printed once, and verify says when no
// certificate was given.
func TestRelabelOutput(t *testing.T) {
	d := labelableDir(t)
	tree := filepath.Join(d, "tree")
	os.MkdirAll(tree, 0o755)
	os.WriteFile(filepath.Join(tree, "f"), []byte("f"), 0o644)
	code, out, errs := runCmd("--progress", "never", tree)
	if code != 0 || strings.Contains(out, "configuration files listed as mutable") || strings.Contains(out, "mutable") {
		t.Errorf("a tree outside the host's root: exit %d\n%s%s", code, out, errs)
	}

	ro := filepath.Join(d, "ro")
	os.MkdirAll(ro, 0o755)
	if err := unix.Mount(tree, ro, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	defer unix.Unmount(ro, unix.MNT_DETACH)
	if err := unix.Mount("", ro, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCmd("--progress", "never", "--force", ro)
	p := filepath.Join(ro, "f")
	if code != 1 || strings.Count(errs, p) != 1 || !regexp.MustCompile(`(?m)^FAILED `+regexp.QuoteMeta(p)+`: set security.ima: read-only file system$`).MatchString(errs) {
		t.Errorf("failure on a read-only mount: exit %d, want the path once:\n%s", code, errs)
	}

	code, out, errs = runCmd("verify", "--progress", "never", tree)
	if code != 0 || !strings.Contains(errs, "no certificate given") || !strings.Contains(out, "no certificate given") {
		t.Errorf("verify without --cert: exit %d\n%s%s", code, out, errs)
	}
}
