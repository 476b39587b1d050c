package dpkglabel

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/relabel"
)

// The EVM path without EVM (the host has none): a file with no label is
// replaced by a labeled copy with the original's owner, group, mode and
// times; the copy passes through the label group; a mismatch leaves the
// original alone and no copy behind. The VM test proves the kernel side.
func TestRecreate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (security.ima, chown)")
	}
	dir := t.TempDir()
	content := []byte("#!/bin/sh\necho new\n")
	p := filepath.Join(dir, "usr", "bin", "x.dpkg-new")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chown(p, 12, 34)
	unix.Chmod(p, 0o4755) // after chown, which clears set-user-id
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(p, mtime, mtime)
	var before unix.Stat_t
	unix.Stat(p, &before)

	d := sha256.Sum256(content)
	label := append([]byte{byte(relabel.TypeSignature), 2, byte(relabel.AlgoSHA256)}, "not a real signature"...)
	e := imasigs.Entry{Path: "/usr/bin/x", Algo: relabel.AlgoSHA256, Digest: d[:], Label: label}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rc := &Recreator{GID: 4242}
	res := &PackageResult{}
	res.applyEntry(r, "/usr/bin/x.dpkg-new", e, Labeling{Recreate: rc})
	if res.Labeled != 1 || res.Failed() {
		t.Fatalf("recreate: %+v", res)
	}
	var after unix.Stat_t
	unix.Stat(p, &after)
	if after.Ino == before.Ino {
		t.Error("the file was labeled in place, not replaced by a copy")
	}
	if after.Uid != 12 || after.Gid != 34 || after.Mode&07777 != 04755 || after.Mtim != before.Mtim {
		t.Errorf("copy: uid %d gid %d mode %o mtime %v, want 12 34 4755 %v", after.Uid, after.Gid, after.Mode&07777, after.Mtim, before.Mtim)
	}
	if b, _ := os.ReadFile(p); string(b) != string(content) {
		t.Errorf("copy holds %q", b)
	}
	buf := make([]byte, 256)
	n, err := unix.Getxattr(p, relabel.XattrIMA, buf)
	if err != nil || string(buf[:n]) != string(label) {
		t.Errorf("copy's security.ima %x (%v)", buf[:max(n, 0)], err)
	}

	// A mismatch: the original stays, no copy is left.
	os.WriteFile(filepath.Join(dir, "usr/bin/y.dpkg-new"), []byte("other"), 0o755)
	res = &PackageResult{}
	res.applyEntry(r, "/usr/bin/y.dpkg-new", e, Labeling{Recreate: rc})
	if !res.Failed() || !strings.Contains(res.Mismatches[0].Error(), "content does not match") {
		t.Errorf("mismatch: %+v", res)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "usr/bin"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".imaboot-") {
			t.Errorf("copy %s left behind", e.Name())
		}
	}
	// Labeled already: verified, never copied again.
	unix.Stat(p, &before)
	res = &PackageResult{}
	res.applyEntry(r, "/usr/bin/x.dpkg-new", e, Labeling{Recreate: rc})
	unix.Stat(p, &after)
	if res.Verified != 1 || after.Ino != before.Ino {
		t.Errorf("second run: %+v, inode %d -> %d", res, before.Ino, after.Ino)
	}
}

// A control member sits at the top of its root (tmp.ci): the copy is made
// there too.
func TestRecreateAtTop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (security.ima)")
	}
	dir := t.TempDir()
	content := []byte("#!/bin/sh\nexit 0\n")
	os.WriteFile(filepath.Join(dir, "preinst"), content, 0o755)
	d := sha256.Sum256(content)
	label := append([]byte{byte(relabel.TypeSignature), 2, byte(relabel.AlgoSHA256)}, "not a real signature"...)
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res := &PackageResult{}
	res.applyEntry(r, "/preinst", imasigs.Entry{Path: "DEBIAN/preinst", Algo: relabel.AlgoSHA256, Digest: d[:], Label: label}, Labeling{Recreate: &Recreator{GID: 4242}})
	if res.Labeled != 1 || res.Failed() {
		t.Fatalf("recreate at the top of the root: %+v", res)
	}
}

func TestGroupID(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc/group"), []byte("root:x:0:\nimaboot-label:x:997:\n"), 0o644)
	if g := GroupID(dir, LabelGroup); g != 997 {
		t.Errorf("GroupID = %d", g)
	}
	if g := GroupID(dir, "nope"); g != -1 {
		t.Errorf("GroupID of a missing group = %d", g)
	}
}
