package blockdev

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tool finds a program in PATH or the sbin folders (a non-root PATH often
// lacks them) and skips the test when it is not installed, naming the
// Debian package that brings it.
func tool(t testing.TB, name, debPkg string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("%s not installed (Debian package %s)", name, debPkg)
	return ""
}

// run runs a program and fails the test with its output on error.
func run(t testing.TB, stdin string, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sparse makes an empty file of the given size.
func sparse(t testing.TB, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}

// blkid asks util-linux's blkid (the reference this package stands in for)
// what it sees in an image, as KEY=value pairs.
func blkid(t testing.TB, path string) map[string]string {
	t.Helper()
	prog := tool(t, "blkid", "util-linux")
	out, _ := exec.Command(prog, "-p", "-o", "export", path).Output()
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = v
		}
	}
	return kv
}

// sameAsBlkid checks our probe against blkid's TYPE, UUID and LABEL.
func sameAsBlkid(t testing.TB, path string, got Info) {
	t.Helper()
	want := blkid(t, path)
	if want["TYPE"] == "" {
		t.Fatalf("blkid sees no type in %s (test image not made?)", path)
	}
	if got.FSType != want["TYPE"] || got.UUID != want["UUID"] || got.Label != want["LABEL"] {
		t.Errorf("%s: probe = {%q %q %q}, blkid = {%q %q %q}", filepath.Base(path),
			got.FSType, got.UUID, got.Label, want["TYPE"], want["UUID"], want["LABEL"])
	}
}
