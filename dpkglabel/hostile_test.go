package dpkglabel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/dpkglabel"
	"github.com/imaboot/imaboot/internal/swaptest"
)

// Layout: ROOT (a directory of /tmp's file system) holds package "tool"
// with /usr/bin/tool, /usr/bin/same and /usr/bin/other; OUTSIDE holds a hard
// link to ROOT/usr/bin/tool. ROOT/usr/bin/same and ROOT/usr/bin/other are
// hard links of one inode, both listed.
func TestFromDpkgSharedInodes(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("security.ima needs root")
	}
	base := t.TempDir()
	r := &fakeRoot{t: t, dir: filepath.Join(base, "root"), s: newSigner(t)}
	r.add("tool", "installed", map[string]string{"/usr/bin/tool": "#!/bin/sh\ntool\n", "/usr/bin/same": "#!/bin/sh\nsame\n", "/usr/bin/other": "#!/bin/sh\nsame\n"}, true, nil)
	at := func(p string) string { return filepath.Join(r.dir, p) }
	outside := filepath.Join(base, "outside")
	os.Mkdir(outside, 0o755)
	if err := os.Link(at("usr/bin/tool"), filepath.Join(outside, "tool")); err != nil {
		t.Fatal(err)
	}
	os.Remove(at("usr/bin/other"))
	if err := os.Link(at("usr/bin/same"), at("usr/bin/other")); err != nil {
		t.Fatal(err)
	}

	sum, out := runRoot(t, dpkglabel.Options{Root: r.dir})
	if ima(t, filepath.Join(outside, "tool")) != nil {
		t.Errorf("an inode shared with a file outside the root was labeled:\n%s", out)
	}
	if sum.Mismatches != 1 || !strings.Contains(out, "mismatch tool: "+at("usr/bin/tool")+": 2 hard links, 1 of them listed under") {
		t.Errorf("the shared inode is not reported: %+v\n%s", sum, out)
	}
	if len(ima(t, at("usr/bin/same"))) == 0 || sum.Labeled != 1 || sum.Verified != 1 {
		t.Errorf("two listed names of one inode inside the root were not labeled: %+v\n%s", sum, out)
	}
}

// On a root that is a whole file system (a tmpfs here), every link of a
// file is inside it: nothing is refused.
func TestFromDpkgWholeFileSystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("security.ima and mount need root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	r := &fakeRoot{t: t, dir: dir, s: newSigner(t)}
	r.add("tool", "installed", map[string]string{"/usr/bin/tool": "#!/bin/sh\n"}, true, nil)
	if err := os.Link(filepath.Join(dir, "usr/bin/tool"), filepath.Join(dir, "unlisted")); err != nil {
		t.Fatal(err)
	}
	if unix.Setxattr(filepath.Join(dir, "unlisted"), "security.ima", []byte{4}, 0) != nil {
		t.Skip("no security.* xattrs on tmpfs here")
	}
	unix.Removexattr(filepath.Join(dir, "unlisted"), "security.ima")
	sum, out := runRoot(t, dpkglabel.Options{Root: dir})
	if sum.Mismatches != 0 || sum.Labeled != 1 {
		t.Errorf("a whole file system: %+v\n%s", sum, out)
	}
}

// A directory of the root swapped with a symlink to a directory outside it
// (renameat2 RENAME_EXCHANGE in a loop) while the packages are labeled:
// each listed path is resolved once, inside the root, so nothing outside is
// labeled. (This already held before the walker change: --from-dpkg opens
// every path with openat2 RESOLVE_IN_ROOT and works on the descriptor.)
func TestFromDpkgSwappedDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("security.ima needs root")
	}
	base := t.TempDir()
	r := &fakeRoot{t: t, dir: filepath.Join(base, "root"), s: newSigner(t)}
	files := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d"} {
		files["/usr/lib/x/"+n] = "#!/bin/sh\n" + n + "\n"
	}
	r.add("x", "installed", files, true, nil)
	outside := filepath.Join(base, "outside")
	writeFiles(t, outside, map[string]string{"a": "#!/bin/sh\na\n", "b": "#!/bin/sh\nb\n", "c": "#!/bin/sh\nc\n", "d": "#!/bin/sh\nd\n"})
	if err := os.Symlink("../../../outside", filepath.Join(r.dir, "usr/lib/link")); err != nil {
		t.Fatal(err)
	}
	stop := swaptest.Loop(t, filepath.Join(r.dir, "usr/lib/x"), filepath.Join(r.dir, "usr/lib/link"))
	defer stop()
	for i := 0; i < 100; i++ {
		_, out := runRoot(t, dpkglabel.Options{Root: r.dir})
		for _, n := range []string{"a", "b", "c", "d"} {
			if ima(t, filepath.Join(outside, n)) != nil {
				t.Fatalf("run %d labeled %s outside the root:\n%s", i, filepath.Join(outside, n), out)
			}
		}
	}
}
