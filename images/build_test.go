package images_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imaboot/imaboot/images"
	"github.com/imaboot/imaboot/kmod"
	"github.com/imaboot/imaboot/kmod/kmodtest"
	"github.com/u-root/u-root/pkg/cpio"
)

// The host inputs every test starts from (under a temp dir):
//
//	init                    the "init binary" (a script here), mode 0700
//	imaboot.conf            configuration
//	keys/ima/a.der          a file kept at mode 0600
//	policy/ima.policy       a tree added with a directory mapping, with
//	policy/sub/run.sh       an executable (0750) and
//	policy/latest -> ima.policy  a symlink
//	kroot/usr/lib/modules/6.12.0-test/   a module tree without modules.dep:
//	  kernel/virtio.ko.xz  kernel/virtio_ring.ko.xz (-> virtio)
//	  kernel/block/virtio-blk.ko.xz (-> virtio, virtio_ring)
//	  kernel/extra.ko      (not asked for: must stay out)
//	  modules.builtin      naming virtio_pci
const kver = "6.12.0-test"

type inputs struct {
	dir  string
	spec images.Spec
}

func newInputs(t *testing.T) inputs {
	t.Helper()
	d := t.TempDir()
	write := func(rel, data string, mode os.FileMode) {
		p := filepath.Join(d, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode) // past the umask
	}
	write("init", "#!/bin/sh\necho init\n", 0o700)
	write("imaboot.conf", "MODE=enforce\n", 0o600)
	write("keys/ima/a.der", "\x30\x82cert", 0o600)
	write("policy/ima.policy", "measure func=BPRM_CHECK\n", 0o644)
	write("policy/sub/run.sh", "#!/bin/sh\n", 0o750)
	if err := os.Symlink("ima.policy", filepath.Join(d, "policy/latest")); err != nil {
		t.Fatal(err)
	}
	mdir := filepath.Join(d, "kroot/usr/lib/modules", kver)
	kmodtest.WriteTree(t, mdir, []kmodtest.Module{
		{Path: "kernel/virtio.ko.xz"},
		{Path: "kernel/virtio_ring.ko.xz", Depends: []string{"virtio"}},
		{Path: "kernel/block/virtio-blk.ko.xz", Depends: []string{"virtio", "virtio_ring"}},
		{Path: "kernel/extra.ko"},
	})
	write("kroot/usr/lib/modules/"+kver+"/modules.builtin", "kernel/drivers/virtio/virtio_pci.ko\n", 0o644)
	return inputs{dir: d, spec: images.Spec{
		Init:       filepath.Join(d, "init"),
		KernelRoot: filepath.Join(d, "kroot"),
		Modules:    []string{"virtio_pci", "virtio-blk"},
		Config:     filepath.Join(d, "imaboot.conf"),
		Files:      []images.Mapping{{Src: filepath.Join(d, "keys/ima/a.der"), Dst: "/etc/keys/ima/a.der"}},
		Dirs:       []images.Mapping{{Src: filepath.Join(d, "policy"), Dst: "/etc/imaboot/policy"}},
		Data:       []images.DataFile{{Dst: "/etc/imaboot/generated", Data: []byte("x\n")}},
	}}
}

func build(t *testing.T, s images.Spec) []byte {
	t.Helper()
	var b bytes.Buffer
	rep, err := images.Build(&b, s)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bytes != int64(b.Len()) {
		t.Errorf("report says %d bytes, wrote %d", rep.Bytes, b.Len())
	}
	return b.Bytes()
}

func gunzip(t *testing.T, img []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestReproducible(t *testing.T) {
	in := newInputs(t)
	first := build(t, in.spec)

	// New mtimes and a different order of the same mappings change nothing.
	old := time.Unix(1e9, 0)
	filepath.Walk(in.dir, func(p string, _ os.FileInfo, _ error) error {
		os.Chtimes(p, old, old)
		return nil
	})
	s := in.spec
	s.Files = append([]images.Mapping{{Src: filepath.Join(in.dir, "imaboot.conf"), Dst: "/etc/other.conf"}}, s.Files...)
	s2 := in.spec
	s2.Files = append(append([]images.Mapping{}, s2.Files...), images.Mapping{Src: filepath.Join(in.dir, "imaboot.conf"), Dst: "/etc/other.conf"})
	a, b := build(t, s), build(t, s2)
	if !bytes.Equal(a, b) {
		t.Error("the order of --file mappings changed the image")
	}
	if again := build(t, in.spec); !bytes.Equal(first, again) {
		t.Error("two builds of the same inputs differ")
	}
	if bytes.Equal(first, a) {
		t.Error("an added file did not change the image")
	}
	// One byte of content changes the image.
	os.WriteFile(filepath.Join(in.dir, "imaboot.conf"), []byte("MODE=permissive\n"), 0o600)
	if bytes.Equal(first, build(t, in.spec)) {
		t.Error("changed configuration, same image")
	}
	// The gzip header carries no name and no time.
	if first[0] != 0x1f || first[1] != 0x8b || first[3] != 0 || !bytes.Equal(first[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip header % x: want no flags, mtime 0", first[:10])
	}
}

func TestArchiveHeaders(t *testing.T) {
	in := newInputs(t)
	s := in.spec
	s.NoCompress = true
	raw := build(t, s)
	if !bytes.Equal(gunzip(t, build(t, in.spec)), raw) {
		t.Error("the compressed image is not the gzip of the uncompressed one")
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	inos := map[uint64]string{}
	var names []string
	for _, r := range recs {
		if r.Name == cpio.Trailer {
			continue
		}
		names = append(names, r.Name)
		if r.MTime != 0 || r.UID != 0 || r.GID != 0 {
			t.Errorf("%s: mtime %d uid %d gid %d, want 0", r.Name, r.MTime, r.UID, r.GID)
		}
		if other, dup := inos[r.Ino]; dup || r.Ino == 0 {
			t.Errorf("%s: inode %d (also %q)", r.Name, r.Ino, other)
		}
		inos[r.Ino] = r.Name
		if dir := filepath.Dir(r.Name); dir != "." && !seen[dir] {
			t.Errorf("%s comes before its directory %s", r.Name, dir)
		}
		seen[r.Name] = true
	}
	if !bytes.Contains(raw[len(raw)-512:], []byte(cpio.Trailer+"\x00")) {
		t.Error("no trailer at the end")
	}
	if seen["lib/modules/"+kver+"/kernel/extra.ko"] {
		t.Error("a module nobody asked for is in the image")
	}
	if len(names) < 25 || !seen["init"] || !seen["lib/modules/"+kver+"/modules.dep"] {
		t.Errorf("entries %v", names)
	}
}

// TestCpioExtract lets Debian's cpio list and unpack the image and checks
// what lands on disk, then resolves and "loads" the modules from it as the
// agent would at boot.
func TestCpioExtract(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed")
	}
	in := newInputs(t)
	raw := gunzip(t, build(t, in.spec))

	list := exec.Command("cpio", "-t", "-v", "--quiet")
	list.Stdin = bytes.NewReader(raw)
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v\n%s", err, out)
	}
	listing := string(out)
	for _, want := range []string{"crw-------", "dev/console", "crw-rw-rw-", "dev/null", "-rwxr-xr-x", " init\n",
		"lrwxrwxrwx", "etc/imaboot/policy/latest -> ima.policy", "lib/modules/" + kver + "/kernel/block/virtio-blk.ko.xz"} {
		if !strings.Contains(listing, want) {
			t.Errorf("cpio -t -v lacks %q:\n%s", want, listing)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("unpacking device nodes needs root")
	}
	root := t.TempDir()
	x := exec.Command("cpio", "-i", "-d", "-m", "--quiet", "--no-absolute-filenames")
	x.Dir, x.Stdin = root, bytes.NewReader(raw)
	if out, err := x.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v\n%s", err, out)
	}
	type want struct {
		mode  os.FileMode
		data  string // "" = not checked
		major uint32 // devices
		minor uint32
	}
	m := "lib/modules/" + kver + "/"
	for p, w := range map[string]want{
		"init":                              {mode: 0o755, data: "#!/bin/sh\necho init\n"},
		"dev":                               {mode: os.ModeDir | 0o755},
		"proc":                              {mode: os.ModeDir | 0o755},
		"sys":                               {mode: os.ModeDir | 0o755},
		"run":                               {mode: os.ModeDir | 0o755},
		"newroot":                           {mode: os.ModeDir | 0o755},
		"dev/console":                       {mode: os.ModeDevice | os.ModeCharDevice | 0o600, major: 5, minor: 1},
		"dev/null":                          {mode: os.ModeDevice | os.ModeCharDevice | 0o666, major: 1, minor: 3},
		"etc/imaboot/imaboot.conf":          {mode: 0o644, data: "MODE=enforce\n"},
		"etc/imaboot/modules.load":          {mode: 0o644, data: "virtio_pci\nvirtio_blk\n"},
		"etc/imaboot/generated":             {mode: 0o644, data: "x\n"},
		"etc/keys/ima/a.der":                {mode: 0o600, data: "\x30\x82cert"},
		"etc/imaboot/policy/ima.policy":     {mode: 0o644, data: "measure func=BPRM_CHECK\n"},
		"etc/imaboot/policy/sub/run.sh":     {mode: 0o750},
		"etc/imaboot/policy/latest":         {mode: os.ModeSymlink | 0o777},
		m + "kernel/virtio.ko.xz":           {mode: 0o644},
		m + "kernel/virtio_ring.ko.xz":      {mode: 0o644},
		m + "kernel/block/virtio-blk.ko.xz": {mode: 0o644},
		m + "modules.builtin":               {mode: 0o644, data: "kernel/drivers/virtio/virtio_pci.ko\n"},
		m + "modules.dep": {mode: 0o644, data: "kernel/virtio.ko.xz:\n" +
			"kernel/virtio_ring.ko.xz: kernel/virtio.ko.xz\n" +
			"kernel/block/virtio-blk.ko.xz: kernel/virtio_ring.ko.xz kernel/virtio.ko.xz\n"},
	} {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if fi.Mode() != w.mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), w.mode)
		}
		if w.data != "" {
			if got, _ := os.ReadFile(filepath.Join(root, p)); string(got) != w.data {
				t.Errorf("%s: content %q, want %q", p, got, w.data)
			}
		}
		if w.mode&os.ModeDevice != 0 {
			rdev := fi.Sys().(*syscall.Stat_t).Rdev
			if maj, min := uint32(rdev>>8)&0xfff, uint32(rdev&0xff); maj != w.major || min != w.minor {
				t.Errorf("%s: device %d:%d, want %d:%d", p, maj, min, w.major, w.minor)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(root, m, "kernel/extra.ko")); err == nil {
		t.Error("a module nobody asked for was unpacked")
	}

	// At boot the agent reads modules.load and loads from the unpacked tree.
	data, _ := os.ReadFile(filepath.Join(root, "etc/imaboot/modules.load"))
	names, params, err := kmod.ParseList(data, "modules.load")
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	res, err := kmod.Load(filepath.Join(root, m), names, kmod.LoadOptions{Params: params,
		Finit: func(f *os.File, _ string, flags int) error {
			if flags != 4 {
				t.Errorf("%s loaded with flags %d, want MODULE_INIT_COMPRESSED_FILE", f.Name(), flags)
			}
			loaded = append(loaded, filepath.Base(f.Name()))
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"virtio.ko.xz", "virtio_ring.ko.xz", "virtio-blk.ko.xz"}; !reflect.DeepEqual(loaded, want) {
		t.Errorf("loaded %v, want %v", loaded, want)
	}
	if res[0].Name != "virtio_pci" || res[0].Status != kmod.BuiltIn {
		t.Errorf("virtio_pci: %+v, want built in", res[0])
	}
}

func TestBuildErrors(t *testing.T) {
	in := newInputs(t)
	for name, tc := range map[string]struct {
		edit func(*images.Spec)
		want []string
	}{
		"missing module": {func(s *images.Spec) { s.Modules = []string{"virtio_blk", "nosuch"} }, []string{"module nosuch not found", kver}},
		"file over init": {func(s *images.Spec) {
			s.Files = append(s.Files, images.Mapping{Src: s.Config, Dst: "/init"})
		}, []string{"/init is given twice", "--init", "--file"}},
		"file over dir": {func(s *images.Spec) {
			s.Files = append(s.Files, images.Mapping{Src: s.Config, Dst: "/etc/imaboot"})
		}, []string{"/etc/imaboot is given twice"}},
		"file under file": {func(s *images.Spec) {
			s.Files = append(s.Files, images.Mapping{Src: s.Config, Dst: "/init/x"})
		}, []string{"needs /init to be a directory"}},
		"relative dst": {func(s *images.Spec) {
			s.Files = append(s.Files, images.Mapping{Src: s.Config, Dst: "etc/x"})
		}, []string{"must be an absolute path"}},
		"missing src": {func(s *images.Spec) {
			s.Files = append(s.Files, images.Mapping{Src: "/nonexistent/x", Dst: "/x"})
		}, []string{"/nonexistent/x", "no such file"}},
		"dir as file": {func(s *images.Spec) {
			s.Files = append(s.Files, images.Mapping{Src: in.dir, Dst: "/x"})
		}, []string{"is a directory"}},
		"wrong kver":             {func(s *images.Spec) { s.KernelVersion = "9.9" }, []string{"no module tree for kernel 9.9"}},
		"modules without kernel": {func(s *images.Spec) { s.KernelRoot = "" }, []string{"without a kernel root"}},
	} {
		s := in.spec
		tc.edit(&s)
		_, err := images.Build(io.Discard, s)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", name, err, w)
			}
		}
	}
}

func TestBuildFile(t *testing.T) {
	in := newInputs(t)
	out := filepath.Join(t.TempDir(), "initrd.img")
	rep, err := images.BuildFile(out, in.spec)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(data, build(t, in.spec)) || int64(len(data)) != rep.Bytes {
		t.Errorf("file differs from Build's output (%v)", err)
	}
	if rep.KernelVersion != kver || len(rep.Modules) != 4 {
		t.Errorf("report %+v", rep)
	}
	// A failed build leaves the old file and no temporary behind.
	s := in.spec
	s.Modules = []string{"nosuch"}
	if _, err := images.BuildFile(out, s); err == nil {
		t.Fatal("no error")
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}
