package relabel

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// labelDir returns a temporary directory on a file system where root can set
// security.ima (ext4 does; some tmpfs builds do not): t.TempDir first, else a
// directory under the repository's git-ignored .cache/.
func labelDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("setting security.* xattrs needs root")
	}
	d := t.TempDir()
	if canSetIMA(d) {
		return d
	}
	base, err := filepath.Abs(filepath.Join("..", ".cache", "relabel-test"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	d, err = os.MkdirTemp(base, t.Name()+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if !canSetIMA(d) {
		t.Skip("no directory here supports security.ima xattrs")
	}
	return d
}

func canSetIMA(dir string) bool {
	p := filepath.Join(dir, ".probe")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		return false
	}
	defer os.Remove(p)
	return unix.Setxattr(p, XattrIMA, []byte{1}, 0) == nil
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: %v", name, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s%s", name, args, err, out, stderr.Bytes())
	}
	return out
}

// testKey makes a key and self-signed certificate with openssl. kind is "rsa" or "ec";
// skid is a hex SubjectKeyIdentifier, or "" for openssl's default (SHA-1 of the public
// key, which is also the key id evmctl computes), or "none" for a certificate without
// one (and without an AuthorityKeyIdentifier, which openssl would derive from it).
type testKey struct{ key, certPEM, certDER string }

func makeKey(t *testing.T, dir, name, kind, skid string) testKey {
	t.Helper()
	needTool(t, "openssl")
	k := testKey{filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".der")}
	args := []string{"req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=imaboot test " + name,
		"-keyout", k.key, "-out", k.certPEM}
	switch kind {
	case "rsa":
		args = append(args, "-newkey", "rsa:2048")
	case "ec":
		args = append(args, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
	}
	switch skid {
	case "":
	case "none":
		args = append(args, "-addext", "subjectKeyIdentifier=none", "-addext", "authorityKeyIdentifier=none")
	default:
		args = append(args, "-addext", "subjectKeyIdentifier="+skid)
	}
	run(t, "openssl", args...)
	run(t, "openssl", "x509", "-in", k.certPEM, "-outform", "der", "-out", k.certDER)
	return k
}

func getIMA(t *testing.T, path, name string) []byte {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Lgetxattr(path, name, buf)
	if err != nil {
		if errors.Is(err, unix.ENODATA) {
			return nil
		}
		t.Fatalf("get %s of %s: %v", name, path, err)
	}
	return buf[:n]
}

func setXattr(t *testing.T, path, name string, v []byte) {
	t.Helper()
	if err := unix.Setxattr(path, name, v, 0); err != nil {
		t.Fatalf("set %s of %s: %v", name, path, err)
	}
}

func writeFile(t *testing.T, path string, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}
