package kmod_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/kmod"
	"github.com/imaboot/imaboot/kmod/kmodtest"
	"golang.org/x/sys/unix"
)

// A fake tree shaped like the 6.1 virtio stack, plus extra modules for the
// error cases. Dependencies here are direct, as in .modinfo:
//
//	virtio_blk -> virtio, virtio_ring
//	virtio_pci -> virtio_pci_modern_dev, virtio_pci_legacy_dev, virtio, virtio_ring
//	virtio_ring -> virtio
//	cyc_a -> cyc_b -> cyc_c -> cyc_a
//	needs_ghost -> ghost (absent)
var fakeTree = []kmodtest.Module{
	{Path: "kernel/drivers/virtio/virtio.ko.xz"},
	{Path: "kernel/drivers/virtio/virtio_ring.ko.xz", Depends: []string{"virtio"}},
	{Path: "kernel/drivers/virtio/virtio_pci_modern_dev.ko"},
	{Path: "kernel/drivers/virtio/virtio_pci_legacy_dev.ko.gz"},
	{Path: "kernel/drivers/virtio/virtio_pci.ko.xz", Depends: []string{"virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio", "virtio_ring"}},
	{Path: "kernel/drivers/block/virtio_blk.ko", Depends: []string{"virtio", "virtio_ring"}},
	{Path: "kernel/crypto/sha512-generic.ko.xz"},
	{Path: "kernel/test/cyc_a.ko", Depends: []string{"cyc_b"}},
	{Path: "kernel/test/cyc_b.ko", Depends: []string{"cyc_c"}},
	{Path: "kernel/test/cyc_c.ko", Depends: []string{"cyc_a"}},
	{Path: "kernel/test/needs_ghost.ko", Depends: []string{"ghost"}},
}

// depmodFile is the modules.dep depmod would write for fakeTree (every
// dependency, the one loaded last first).
const depmodFile = `kernel/drivers/virtio/virtio.ko.xz:
kernel/drivers/virtio/virtio_ring.ko.xz: kernel/drivers/virtio/virtio.ko.xz
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko.gz:
kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz kernel/drivers/virtio/virtio.ko.xz kernel/drivers/virtio/virtio_pci_legacy_dev.ko.gz kernel/drivers/virtio/virtio_pci_modern_dev.ko
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko.xz kernel/drivers/virtio/virtio.ko.xz
kernel/crypto/sha512-generic.ko.xz:
kernel/test/cyc_a.ko: kernel/test/cyc_b.ko kernel/test/cyc_c.ko
kernel/test/cyc_b.ko: kernel/test/cyc_c.ko kernel/test/cyc_a.ko
kernel/test/cyc_c.ko: kernel/test/cyc_a.ko kernel/test/cyc_b.ko
kernel/test/needs_ghost.ko: kernel/test/ghost.ko
`

var wantVirtio = []string{"virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio", "virtio_ring", "virtio_pci", "virtio_blk"}

// newTree writes fakeTree into root/lib/modules/6.1.0-test, with or without
// a modules.dep, and returns the module directory.
func newTree(t *testing.T, withDep bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lib/modules/6.1.0-test")
	kmodtest.WriteTree(t, dir, fakeTree)
	if withDep {
		if err := os.WriteFile(filepath.Join(dir, kmod.DepFile), []byte(depmodFile), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func names(mods []kmod.Module) []string {
	var ns []string
	for _, m := range mods {
		ns = append(ns, m.Name)
	}
	return ns
}

func TestNameFromPath(t *testing.T) {
	for p, want := range map[string]string{
		"kernel/a/virtio_blk.ko":        "virtio_blk",
		"kernel/a/virtio_blk.ko.xz":     "virtio_blk",
		"kernel/a/sha512-generic.ko.gz": "sha512_generic",
		"x.ko.zst":                      "x",
		"kernel/a/readme.txt":           "",
		"kernel/a/.ko":                  "",
		"kernel/a/foo.ko.bz2":           "",
	} {
		got, ok := kmod.NameFromPath(p)
		if got != want || ok != (want != "") {
			t.Errorf("NameFromPath(%q) = %q, %v; want %q", p, got, ok, want)
		}
	}
}

func TestReadModinfoFormats(t *testing.T) {
	dir := t.TempDir()
	mods := []kmodtest.Module{
		{Path: "a.ko", Depends: []string{"x", "y-z"}},
		{Path: "b.ko.xz", Depends: []string{"x"}},
		{Path: "c.ko.gz"},
	}
	kmodtest.WriteTree(t, dir, mods)
	for _, m := range mods {
		info, err := kmod.ReadModinfo(filepath.Join(dir, m.Path))
		if err != nil {
			t.Fatalf("%s: %v", m.Path, err)
		}
		if got, want := info["depends"], []string{strings.Join(m.Depends, ",")}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: depends %q, want %q", m.Path, got, want)
		}
		if info["license"][0] != "GPL" {
			t.Errorf("%s: license %q", m.Path, info["license"])
		}
	}
	// Our fake ELF must be one that binutils reads as well.
	if _, err := exec.LookPath("readelf"); err == nil {
		out, err := exec.Command("readelf", "-p", ".modinfo", filepath.Join(dir, "a.ko")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "depends=x,y-z") {
			t.Errorf("readelf -p .modinfo: %v\n%s", err, out)
		}
	}
	// The xz stream must be one that xz(1) accepts with a CRC32 check, as the kernel wants.
	if _, err := exec.LookPath("xz"); err == nil {
		out, err := exec.Command("xz", "--robot", "--list", filepath.Join(dir, "b.ko.xz")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "CRC32") {
			t.Errorf("xz --list: %v\n%s", err, out)
		}
	}
	bad := filepath.Join(dir, "bad.ko")
	os.WriteFile(bad, []byte("not elf"), 0o644)
	if _, err := kmod.ReadModinfo(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("ReadModinfo(garbage) = %v, want an error naming the file", err)
	}
	zst := filepath.Join(dir, "d.ko.zst")
	os.WriteFile(zst, []byte{0x28, 0xb5, 0x2f, 0xfd}, 0o644)
	if _, err := kmod.ReadModinfo(zst); err == nil || !strings.Contains(err.Error(), "modules.dep") {
		t.Errorf("ReadModinfo(.zst) = %v, want an error pointing at modules.dep", err)
	}
}

func TestResolve(t *testing.T) {
	for _, withDep := range []bool{false, true} {
		x, err := kmod.Open(newTree(t, withDep))
		if err != nil {
			t.Fatal(err)
		}
		if x.FromDepFile != withDep {
			t.Errorf("FromDepFile = %v, want %v", x.FromDepFile, withDep)
		}
		mods, err := x.Resolve([]string{"virtio-pci", "virtio_blk", "virtio"})
		if err != nil {
			t.Fatalf("withDep=%v: %v", withDep, err)
		}
		if got := names(mods); !reflect.DeepEqual(got, wantVirtio) {
			t.Errorf("withDep=%v: order %v, want %v", withDep, got, wantVirtio)
		}
		if mods[4].Path != "kernel/drivers/virtio/virtio_pci.ko.xz" {
			t.Errorf("virtio_pci path %q", mods[4].Path)
		}
		mods, err = x.Resolve([]string{"sha512_generic"})
		if err != nil || len(mods) != 1 || mods[0].Path != "kernel/crypto/sha512-generic.ko.xz" {
			t.Errorf("withDep=%v: sha512_generic -> %+v, %v", withDep, mods, err)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	for _, withDep := range []bool{false, true} {
		x, err := kmod.Open(newTree(t, withDep))
		if err != nil {
			t.Fatal(err)
		}
		_, err = x.Resolve([]string{"virtio_blk", "nosuch"})
		var nf *kmod.NotFoundError
		if !errors.As(err, &nf) || nf.Name != "nosuch" || nf.NeededBy != "" {
			t.Errorf("missing requested module: %v", err)
		}
		_, err = x.Resolve([]string{"needs_ghost"})
		if !errors.As(err, &nf) || nf.Name != "ghost" || nf.NeededBy != "needs_ghost" ||
			!strings.Contains(err.Error(), "module ghost not found") || !strings.Contains(err.Error(), "needed by needs_ghost") {
			t.Errorf("missing dependency: %v", err)
		}
		_, err = x.Resolve([]string{"cyc_a"})
		// modules.dep lists every dependency, so the loop found may be a shortcut.
		if err == nil || !strings.Contains(err.Error(), "cycle") || !strings.Contains(err.Error(), ": cyc_a -> cyc_") || !strings.HasSuffix(err.Error(), "-> cyc_a") {
			t.Errorf("cycle: %v", err)
		}
	}
}

func TestBuiltin(t *testing.T) {
	dir := newTree(t, false)
	os.WriteFile(filepath.Join(dir, kmod.BuiltinFile), []byte("kernel/drivers/block/loop.ko\n"), 0o644)
	x, err := kmod.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := x.Resolve([]string{"loop", "virtio"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || !mods[0].Builtin || mods[0].Name != "loop" || mods[1].Builtin {
		t.Errorf("got %+v", mods)
	}
}

func TestWriteDepRoundTrip(t *testing.T) {
	src := newTree(t, false)
	x, err := kmod.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := x.Resolve([]string{"virtio_blk", "virtio_pci"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := kmod.WriteDep(&b, mods); err != nil {
		t.Fatal(err)
	}
	// Each line must list the same modules as depmod's line (the order
	// among independent ones may differ; the round trip below checks it).
	depmodLines := map[string][]string{}
	for _, line := range strings.Split(depmodFile, "\n") {
		if p, deps, ok := strings.Cut(line, ":"); ok {
			depmodLines[p] = sorted(strings.Fields(deps))
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		p, deps, _ := strings.Cut(line, ":")
		if got, want := sorted(strings.Fields(deps)), depmodLines[p]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: dependencies %v, depmod has %v", p, got, want)
		}
	}
	if n := strings.Count(b.String(), "\n"); n != 6 {
		t.Errorf("%d lines, want 6:\n%s", n, b.String())
	}
	// A copy with only these modules and the written file resolves the same.
	dst := filepath.Join(t.TempDir(), "m")
	for _, m := range mods {
		data, err := os.ReadFile(filepath.Join(src, m.Path))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dst, m.Path)), 0o755)
		os.WriteFile(filepath.Join(dst, m.Path), data, 0o644)
	}
	os.WriteFile(filepath.Join(dst, kmod.DepFile), []byte(b.String()), 0o644)
	y, err := kmod.Open(dst)
	if err != nil || !y.FromDepFile {
		t.Fatalf("open copy: %v", err)
	}
	again, err := y.Resolve([]string{"virtio_blk", "virtio_pci"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names(again), names(mods)) {
		t.Errorf("copy resolves to %v, want %v", names(again), names(mods))
	}
	if _, err := y.Resolve([]string{"sha512_generic"}); err == nil {
		t.Error("module left out of the subset still found")
	}
}

func sorted(s []string) []string {
	s = append([]string{}, s...)
	sort.Strings(s)
	return s
}

func TestFindDir(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/lib/modules/6.12.0-1"), 0o755)
	dir, v, err := kmod.FindDir(root, "")
	if err != nil || v != "6.12.0-1" || dir != filepath.Join(root, "usr/lib/modules/6.12.0-1") {
		t.Errorf("FindDir = %q %q %v", dir, v, err)
	}
	os.MkdirAll(filepath.Join(root, "lib/modules/6.1.0-2"), 0o755)
	if _, _, err := kmod.FindDir(root, ""); err == nil || !strings.Contains(err.Error(), "6.1.0-2") {
		t.Errorf("two versions, no choice: %v", err)
	}
	if dir, _, err := kmod.FindDir(root, "6.1.0-2"); err != nil || dir != filepath.Join(root, "lib/modules/6.1.0-2") {
		t.Errorf("FindDir(6.1.0-2) = %q %v", dir, err)
	}
	if _, _, err := kmod.FindDir(root, "5.0"); err == nil || !strings.Contains(err.Error(), "5.0") {
		t.Errorf("absent version: %v", err)
	}
	if _, _, err := kmod.FindDir(t.TempDir(), ""); err == nil {
		t.Error("empty root: no error")
	}
}

type finitCall struct {
	file   string
	params string
	flags  int
}

func TestLoadOrderAndFlags(t *testing.T) {
	for _, withDep := range []bool{false, true} {
		dir := newTree(t, withDep)
		var calls []finitCall
		fake := func(f *os.File, params string, flags int) error {
			calls = append(calls, finitCall{strings.TrimPrefix(f.Name(), dir+"/"), params, flags})
			if strings.HasSuffix(f.Name(), "/virtio.ko.xz") {
				return unix.EEXIST // e.g. loaded earlier by someone else
			}
			return nil
		}
		res, err := kmod.Load(dir, []string{"virtio_blk", "virtio_pci"}, kmod.LoadOptions{
			Params: map[string]string{"virtio_blk": "queue_depth=64"},
			Finit:  fake,
		})
		if err != nil {
			t.Fatal(err)
		}
		c := unix.MODULE_INIT_COMPRESSED_FILE
		want := []finitCall{
			{"kernel/drivers/virtio/virtio.ko.xz", "", c},
			{"kernel/drivers/virtio/virtio_ring.ko.xz", "", c},
			{"kernel/drivers/block/virtio_blk.ko", "queue_depth=64", 0},
			{"kernel/drivers/virtio/virtio_pci_modern_dev.ko", "", 0},
			{"kernel/drivers/virtio/virtio_pci_legacy_dev.ko.gz", "", c},
			{"kernel/drivers/virtio/virtio_pci.ko.xz", "", c},
		}
		if !reflect.DeepEqual(calls, want) {
			t.Errorf("withDep=%v: finit calls\n got %v\nwant %v", withDep, calls, want)
		}
		if len(res) != 6 || res[0].Status != kmod.AlreadyLoaded || res[1].Status != kmod.Loaded || res[2].Name != "virtio_blk" {
			t.Errorf("results %+v", res)
		}
	}
}

func TestLoadFailureKeepsErrno(t *testing.T) {
	dir := newTree(t, false)
	n := 0
	res, err := kmod.Load(dir, []string{"virtio_blk"}, kmod.LoadOptions{
		Finit: func(f *os.File, _ string, _ int) error {
			if n++; strings.HasSuffix(f.Name(), "virtio_ring.ko.xz") {
				return unix.EKEYREJECTED
			}
			return nil
		},
	})
	if !errors.Is(err, unix.EKEYREJECTED) {
		t.Fatalf("error %v does not keep EKEYREJECTED", err)
	}
	for _, s := range []string{"virtio_ring", "virtio_ring.ko.xz", "finit_module"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	if n != 2 || len(res) != 1 || res[0].Name != "virtio" {
		t.Errorf("after a failure: %d calls, results %+v; want a stop after virtio_ring", n, res)
	}
	_, err = kmod.Load(filepath.Join(filepath.Dir(dir), "9.9.9"), []string{"virtio"}, kmod.LoadOptions{})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "6.1.0-test") {
		t.Errorf("module directory of another kernel: %v, want ENOENT naming the trees present", err)
	}
	if _, err := kmod.Load(dir, []string{"nosuch"}, kmod.LoadOptions{Finit: func(*os.File, string, int) error { return nil }}); err == nil {
		t.Error("missing module: no error")
	}
}

func TestParseList(t *testing.T) {
	names, params, err := kmod.ParseList([]byte("# boot\nvirtio-blk\n\nsha512_generic\nfoo a=1 b=2\n"), "modules.load")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, []string{"virtio_blk", "sha512_generic", "foo"}) || params["foo"] != "a=1 b=2" || len(params) != 1 {
		t.Errorf("got %v %v", names, params)
	}
	if again, p2, _ := kmod.ParseList(kmod.FormatList(names, params), "x"); !reflect.DeepEqual(again, names) || !reflect.DeepEqual(p2, params) {
		t.Errorf("FormatList round trip: %v %v", again, p2)
	}
	if _, _, err := kmod.ParseList([]byte("ok\nkernel/x.ko\n"), "modules.load"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("path as a name: %v", err)
	}
}

func TestLoadHints(t *testing.T) {
	dir := newTree(t, false)
	for _, tc := range []struct {
		errno error
		want  string
	}{
		{unix.EOPNOTSUPP, "no MODULE_DECOMPRESS"},
		{unix.EINVAL, "could not decompress"},
		{unix.EKEYREJECTED, "IMA appraisal"},
	} {
		_, err := kmod.Load(dir, []string{"virtio"}, kmod.LoadOptions{Finit: func(*os.File, string, int) error { return tc.errno }})
		if !errors.Is(err, tc.errno) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want the errno and %q", tc.errno, err, tc.want)
		}
	}
}
