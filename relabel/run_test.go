package relabel

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Test tree layout (under a temporary ROOT):
//
//	ROOT/bin/tool               0755  immutable: signed
//	ROOT/etc/app.conf           0644  in ROOT/var/lib/dpkg/info/app.conffiles: hashed
//	ROOT/etc/rc.local           0755  listed as conffile but executable: signed
//	ROOT/etc/custom/x.conf      0644  --mutable /etc/custom: hashed
//	ROOT/var/lib/dpkg/info/app.conffiles
//	ROOT/link-out -> /etc/passwd       symlink: skipped, not followed
//	ROOT/fifo                   fifo: skipped
func buildTree(t *testing.T) string {
	root := labelDir(t)
	writeFile(t, filepath.Join(root, "bin/tool"), "\x7fELF tool", 0o755)
	writeFile(t, filepath.Join(root, "etc/app.conf"), "key=value\n", 0o644)
	writeFile(t, filepath.Join(root, "etc/rc.local"), "#!/bin/sh\n", 0o755)
	writeFile(t, filepath.Join(root, "etc/custom/x.conf"), "x\n", 0o644)
	writeFile(t, filepath.Join(root, "var/lib/dpkg/info/app.conffiles"), "/etc/app.conf\nremove-on-upgrade /etc/rc.local\n", 0o644)
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func rsaSigner(t *testing.T) *Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSignerWithKeyID(k, 0x0a0b0c0d)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func labelType(t *testing.T, path string) LabelType {
	t.Helper()
	v := getIMA(t, path, XattrIMA)
	if len(v) == 0 {
		return 0
	}
	return LabelType(v[0])
}

func TestRunSignsImmutableHashesMutable(t *testing.T) {
	root := buildTree(t)
	m, err := LoadMutable(root, MutableSources{Dpkg: true, Globs: []string{"/etc/custom"}})
	if err != nil {
		t.Fatal(err)
	}
	signer := rsaSigner(t)
	s, err := Run(context.Background(), Options{Paths: []string{root}, Root: root, Signer: signer, Mutable: m, settle: time.Millisecond})
	if err != nil || s.Failed != 0 {
		t.Fatalf("%+v %v", s, err)
	}
	for rel, want := range map[string]LabelType{
		"bin/tool": TypeSignature, "etc/rc.local": TypeSignature,
		"etc/app.conf": TypeDigestNG, "etc/custom/x.conf": TypeDigestNG,
		"var/lib/dpkg/info/app.conffiles": TypeSignature,
	} {
		if got := labelType(t, filepath.Join(root, rel)); got != want {
			t.Errorf("%s: label %s, want %s", rel, got, want)
		}
	}
	if s.Files != 5 || s.Skipped != 2 || s.Labeled != 5 || s.Signed != 3 {
		t.Errorf("summary %+v", s)
	}
	if v := getIMA(t, "/etc/passwd", XattrIMA); v != nil {
		t.Errorf("followed the symlink out of the tree: /etc/passwd has %x", v)
	}
	if getIMA(t, filepath.Join(root, "link-out"), XattrIMA) != nil {
		t.Error("labeled a symlink")
	}

	// Idempotent: a rerun writes nothing (ctime unchanged); --force rewrites.
	var before unix.Stat_t
	unix.Stat(filepath.Join(root, "bin/tool"), &before)
	s, err = Run(context.Background(), Options{Paths: []string{root}, Root: root, Signer: signer, Mutable: m})
	if err != nil || s.AlreadyLabeled != 5 || s.Labeled != 0 {
		t.Fatalf("rerun: %+v %v", s, err)
	}
	var after unix.Stat_t
	unix.Stat(filepath.Join(root, "bin/tool"), &after)
	if after.Ctim != before.Ctim {
		t.Error("rerun touched a file whose label verified")
	}
	s, _ = Run(context.Background(), Options{Paths: []string{root}, Root: root, Signer: signer, Mutable: m, Force: true})
	if s.Labeled != 5 {
		t.Errorf("--force: %+v", s)
	}
}

func TestRunPreservesContentAndTimes(t *testing.T) {
	dir := labelDir(t)
	p := filepath.Join(dir, "f")
	writeFile(t, p, "content", 0o644)
	old := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Options{Paths: []string{p}}); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Stat(p, &st)
	if !time.Unix(st.Atim.Unix()).Equal(old) || !time.Unix(st.Mtim.Unix()).Equal(old) {
		t.Errorf("atime %v mtime %v, want %v", time.Unix(st.Atim.Unix()), time.Unix(st.Mtim.Unix()), old)
	}
	if b, _ := os.ReadFile(p); string(b) != "content" {
		t.Errorf("content changed: %q", b)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	root := buildTree(t)
	s, err := Run(context.Background(), Options{Paths: []string{root}, DryRun: true, Signer: rsaSigner(t)})
	if err != nil || s.WouldLabel != 5 || s.Labeled != 0 {
		t.Fatalf("%+v %v", s, err)
	}
	if v := getIMA(t, filepath.Join(root, "bin/tool"), XattrIMA); v != nil {
		t.Fatalf("dry run wrote %x", v)
	}
}

func TestExclude(t *testing.T) {
	root := buildTree(t)
	s, err := Run(context.Background(), Options{Paths: []string{root}, Root: root, Exclude: []string{"/etc", "*.conffiles"}})
	if err != nil || s.Files != 1 {
		t.Fatalf("%+v %v", s, err)
	}
	if getIMA(t, filepath.Join(root, "etc/app.conf"), XattrIMA) != nil || getIMA(t, filepath.Join(root, "bin/tool"), XattrIMA) == nil {
		t.Fatal("exclude not applied as asked")
	}
}

// A file rewritten between hashing and labeling must not get the old digest.
func TestRewrittenDuringHashing(t *testing.T) {
	dir := labelDir(t)
	p := filepath.Join(dir, "f")
	writeFile(t, p, "old content", 0o644)
	var calls atomic.Int32
	o := Options{Paths: []string{p}, settle: time.Millisecond, afterHash: func(string) {
		if calls.Add(1) == 1 {
			time.Sleep(15 * time.Millisecond) // a timestamp tick later
			os.WriteFile(p, []byte("new content"), 0o644)
		}
	}}
	s, err := Run(context.Background(), o)
	if err != nil || s.Labeled != 1 || calls.Load() < 2 {
		t.Fatalf("%+v %v (hashed %d times)", s, err, calls.Load())
	}
	d, _ := HashFile(p, AlgoSHA256)
	if got := getIMA(t, p, XattrIMA); !bytes.Equal(got, HashLabel(AlgoSHA256, d)) {
		t.Fatalf("label %x is not the digest of the new content", got)
	}

	// A file that never stops changing is reported, not labeled.
	writeFile(t, p, "x", 0o644)
	unix.Removexattr(p, XattrIMA)
	var n atomic.Int32
	o.afterHash = func(string) {
		time.Sleep(15 * time.Millisecond)
		os.WriteFile(p, bytes.Repeat([]byte("y"), int(n.Add(1))), 0o644)
	}
	s, _ = Run(context.Background(), o)
	if s.Failed != 1 || !strings.Contains(s.Failures[0].Error, ErrChanged.Error()) {
		t.Fatalf("%+v", s)
	}
	if v := getIMA(t, p, XattrIMA); v != nil {
		t.Fatalf("changing file got a label %x", v)
	}
}

func TestBadInputFailsBeforeTouchingFiles(t *testing.T) {
	dir := labelDir(t)
	p := filepath.Join(dir, "f")
	writeFile(t, p, "data", 0o644)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecSigner, _ := NewSignerWithKeyID(ek, 1)
	for name, o := range map[string]Options{
		"missing path":     {Paths: []string{p, filepath.Join(dir, "nope")}},
		"portable, no key": {Paths: []string{p}, EVMPortable: true},
		"unsupported algo": {Paths: []string{p}, Algo: AlgoStreebog256},
		"ecdsa with sha3?": {Paths: []string{p}, Algo: HashAlgo(99), Signer: ecSigner},
		"bad exclude":      {Paths: []string{p}, Exclude: []string{"[x"}},
		"no path":          {},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if v := getIMA(t, p, XattrIMA); v != nil {
		t.Fatalf("file touched: %x", v)
	}
	// Key and certificate that do not match; unreadable key; unsupported key type.
	k1 := makeKey(t, dir, "one", "rsa", "")
	k2 := makeKey(t, dir, "two", "rsa", "")
	if _, err := LoadSigner(k1.key, k2.certPEM); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("mismatch: %v", err)
	}
	if _, err := LoadSigner(filepath.Join(dir, "none.key"), k1.certPEM); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing key: %v", err)
	}
	if _, err := LoadSigner(k1.certPEM, k1.certPEM); err == nil || !strings.Contains(err.Error(), "no PEM private key") {
		t.Errorf("certificate as key: %v", err)
	}
	ed := filepath.Join(dir, "ed.key")
	run(t, "openssl", "genpkey", "-algorithm", "ed25519", "-out", ed)
	if _, err := LoadPrivateKey(ed); !errors.Is(err, ErrUnsupportedAlgo) {
		t.Errorf("ed25519: %v", err)
	}
}

// A read-only mount gives one clear error per file and no label; the error
// names the step, the Failure the path (printed once).
func TestReadOnlyFileSystem(t *testing.T) {
	root := buildTree(t)
	ro := labelDir(t)
	if err := unix.Mount(root, ro, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	defer unix.Unmount(ro, unix.MNT_DETACH)
	if err := unix.Mount("", ro, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	s, err := Run(context.Background(), Options{Paths: []string{ro}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Failed != 5 || len(s.Failures) != 5 {
		t.Fatalf("%+v", s)
	}
	for _, f := range s.Failures {
		if f.Error != "set security.ima: read-only file system" {
			t.Errorf("unclear error: %s: %s", f.Path, f.Error)
		}
	}
}

func TestVerifyStatuses(t *testing.T) {
	dir := labelDir(t)
	k := makeKey(t, dir, "v", "ec", "")
	signer, _ := LoadSigner(k.key, k.certPEM)
	keys, _ := LoadPublicKeys(k.certDER)
	files := map[string]Status{"ok-hash": StatusOK, "ok-sig": StatusOK, "missing": StatusMissing,
		"malformed": StatusMalformed, "wrong": StatusWrongDigest, "unknown": StatusUnknownKey, "bad": StatusBadSignature}
	for n := range files {
		writeFile(t, filepath.Join(dir, "t", n), n, 0o644)
	}
	p := func(n string) string { return filepath.Join(dir, "t", n) }
	Run(context.Background(), Options{Paths: []string{p("ok-hash"), p("wrong")}})
	Run(context.Background(), Options{Paths: []string{p("ok-sig"), p("bad"), p("unknown")}, Signer: signer})
	setXattr(t, p("malformed"), XattrIMA, []byte{0x04, 0x04, 1})
	os.WriteFile(p("wrong"), []byte("changed"), 0o644)
	os.WriteFile(p("bad"), []byte("changed"), 0o644)
	u := getIMA(t, p("unknown"), XattrIMA)
	u[3] ^= 0xff
	setXattr(t, p("unknown"), XattrIMA, u)
	rep, err := Verify(context.Background(), VerifyOptions{Paths: []string{filepath.Join(dir, "t")}, Keys: keys})
	if err != nil || rep.Verified != 2 || rep.Failed != 5 {
		t.Fatalf("%+v %v", rep, err)
	}
	for _, v := range rep.Problems {
		if want := files[filepath.Base(v.Path)]; v.IMA != want {
			t.Errorf("%s: %s, want %s (%s)", v.Path, v.IMA, want, v.Detail)
		}
	}
}

func TestKernelFixResetsSignatureWithoutEVM(t *testing.T) {
	dir := labelDir(t)
	signer := rsaSigner(t)
	writeFile(t, filepath.Join(dir, "a"), "a", 0o755)
	writeFile(t, filepath.Join(dir, "b"), "b", 0o755)
	writeFile(t, filepath.Join(dir, "c"), "c", 0o644)
	Run(context.Background(), Options{Paths: []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}, Signer: signer})
	setXattr(t, filepath.Join(dir, "b"), XattrEVM, []byte{2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	// ext4 skips writing an identical value, so watch the call itself.
	var set []string
	defer func(f func(int, string, []byte, int) error) { kernelFixSetxattr = f }(kernelFixSetxattr)
	kernelFixSetxattr = func(fd int, name string, v []byte, flags int) error {
		set = append(set, name)
		return unix.Fsetxattr(fd, name, v, flags)
	}
	s, err := KernelFix(context.Background(), Options{Paths: []string{dir}})
	if err != nil || s.Files != 3 || s.Labeled != 1 || len(set) != 1 || set[0] != XattrIMA {
		t.Fatalf("%+v %v, set %v", s, err, set)
	}
}

// Kill -9 at random points of a run over a few thousand files, then rerun: every label
// verifies and every content is byte-identical.
func TestKillAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	dir := labelDir(t)
	bin := filepath.Join(dir, "imaboot-relabel")
	build := exec.Command("go", "build", "-o", bin, "../cmd/imaboot-relabel")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	k := makeKey(t, dir, "kill", "rsa", "") // RSA: slow enough that kills land mid-run
	tree := filepath.Join(dir, "tree")
	const n = 3000
	sums := map[string][]byte{}
	for i := 0; i < n; i++ {
		p := filepath.Join(tree, string(rune('a'+i%7)), "f"+strings.Repeat("x", i%5)+itoa(i))
		data := bytes.Repeat([]byte(itoa(i)), 1+i%200)
		writeFile(t, p, string(data), 0o755)
		d, _ := hashReader(bytes.NewReader(data), AlgoSHA256, make([]byte, 4096))
		sums[p] = d
	}
	args := []string{"--sign", "--key", k.key, "--cert", k.certPEM, "--evm", "portable", "--progress", "never", tree}
	// Kill at random points until at least 3 kills landed and some, not all, files
	// are labeled (a loaded machine may need more tries to get going).
	labeled, kills := 0, 0
	for try := 0; try < 12 && (kills < 3 || labeled == 0); try++ {
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+mrand.IntN(400)+50*try) * time.Millisecond)
		cmd.Process.Signal(unix.SIGKILL)
		if err := cmd.Wait(); err != nil {
			kills++ // killed, not finished
		}
		labeled = 0
		for p := range sums {
			if getIMA(t, p, XattrIMA) != nil {
				labeled++
			}
		}
	}
	if labeled == 0 || labeled == n {
		t.Fatalf("the kills did not interrupt a run (%d of %d files labeled)", labeled, n)
	}
	out, err := exec.Command(bin, append(args, "--json")...).CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	var s Summary
	if err := json.Unmarshal(out, &s); err != nil || s.AlreadyLabeled == 0 || s.Labeled == 0 || s.Failed != 0 {
		t.Fatalf("rerun summary %+v %v\n%s", s, err, out)
	}
	keys, _ := LoadPublicKeys(k.certPEM)
	rep, err := Verify(context.Background(), VerifyOptions{Paths: []string{tree}, Keys: keys})
	if err != nil || rep.Verified != n || rep.EVMVerified != n {
		t.Fatalf("after kill and rerun: %+v %v\n%s", rep, err, out)
	}
	for p, want := range sums {
		if got, _ := HashFile(p, AlgoSHA256); !bytes.Equal(got, want) {
			t.Fatalf("%s content changed", p)
		}
	}
	t.Logf("%d of %d files labeled after %d kills; rerun labeled %d, skipped %d already right", labeled, n, kills, s.Labeled, s.AlreadyLabeled)
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}

// Hard links name one inode: it is labeled once, even with ECDSA, whose signatures
// differ each time (workers on two names would otherwise undo each other).
func TestHardLinksLabeledOnce(t *testing.T) {
	dir := labelDir(t)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := NewSignerWithKeyID(ek, 7)
	first := filepath.Join(dir, "l0")
	writeFile(t, first, strings.Repeat("driver", 100000), 0o755)
	for i := 1; i < 20; i++ {
		if err := os.Link(first, filepath.Join(dir, "l"+itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Run(context.Background(), Options{Paths: []string{dir}, Signer: signer, Workers: 4, Force: true})
	if err != nil || s.Failed != 0 || s.Labeled != 1 || s.HardLinks != 19 {
		t.Fatalf("%+v %v", s, err)
	}
}

// A file that becomes mutable keeps its signatures unless they may be replaced; then it
// loses its portable EVM signature with its IMA signature: the signature covers the old
// security.ima and would make the kernel refuse the file.
func TestMutableFileLosesStaleEVMSignature(t *testing.T) {
	dir := labelDir(t)
	p := filepath.Join(dir, "etc/app.conf")
	writeFile(t, p, "a=1\n", 0o644)
	signer := rsaSigner(t)
	s, err := Run(context.Background(), Options{Paths: []string{dir}, Signer: signer, EVMPortable: true})
	if err != nil || s.EVMSigned != 1 {
		t.Fatalf("%+v %v", s, err)
	}
	m, _ := LoadMutable(dir, MutableSources{Globs: []string{"/etc"}})
	s, err = Run(context.Background(), Options{Paths: []string{dir}, Root: dir, Signer: signer, EVMPortable: true, Mutable: m})
	if err != nil || s.Labeled != 0 || s.SignaturesKept != 1 || labelType(t, p) != TypeSignature {
		t.Fatalf("without ReplaceSignatures: %+v %v, security.ima %x", s, err, getIMA(t, p, XattrIMA))
	}
	s, err = Run(context.Background(), Options{Paths: []string{dir}, Root: dir, Signer: signer, EVMPortable: true, Mutable: m, ReplaceSignatures: true})
	if err != nil || s.Labeled != 1 || s.Signed != 0 || s.Mutable != 1 {
		t.Fatalf("%+v %v", s, err)
	}
	if labelType(t, p) != TypeDigestNG || getIMA(t, p, XattrEVM) != nil {
		t.Fatalf("ima %x evm %x", getIMA(t, p, XattrIMA), getIMA(t, p, XattrEVM))
	}
}

// Pseudo file systems are never walked; other file systems only when asked.
func TestFileSystemBoundaries(t *testing.T) {
	dir := labelDir(t)
	writeFile(t, filepath.Join(dir, "a"), "a", 0o644)
	for _, sub := range []string{"proc", "other"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("proc", filepath.Join(dir, "proc"), "proc", 0, ""); err != nil {
		t.Skipf("mount proc: %v", err)
	}
	defer unix.Unmount(filepath.Join(dir, "proc"), unix.MNT_DETACH)
	if err := unix.Mount("tmpfs", filepath.Join(dir, "other"), "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(filepath.Join(dir, "other"), unix.MNT_DETACH)
	writeFile(t, filepath.Join(dir, "other/b"), "b", 0o644)

	s, err := Run(context.Background(), Options{Paths: []string{dir}, DryRun: true})
	if err != nil || s.Files != 1 || s.Skipped != 2 {
		t.Fatalf("one file system: %+v %v", s, err)
	}
	s, err = Run(context.Background(), Options{Paths: []string{dir}, DryRun: true, CrossFilesystems: true})
	if err != nil || s.Files != 2 || s.Skipped != 1 {
		t.Fatalf("cross file systems: %+v %v", s, err)
	}
	s, err = Run(context.Background(), Options{Paths: []string{"/proc/sys"}, DryRun: true})
	if err != nil || s.Files != 0 || s.Skipped != 1 {
		t.Fatalf("a pseudo file system given as PATH: %+v %v", s, err)
	}
}
