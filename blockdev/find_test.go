package blockdev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fake machine the Find tests look at, laid out as the kernel lays out
// sysfs (class/block/NAME links into devices/, a partition's directory
// inside its disk's) with device nodes that are links to image files:
//
//	loop0  7:0    empty (size 0)
//	vdb    254:16 ext4  UUID=uuidData LABEL=data
//	vdc    254:32 swap  UUID=uuidSwap
//	vda    254:0  GPT disk (only with sfdisk), partitions:
//	  vda1 254:1  ext2  LABEL=boot           PARTUUID=gptPart1 PARTLABEL="EFI system"
//	  vda3 254:3  ext4  UUID=uuidRoot LABEL=root  PARTUUID=gptPart3 PARTLABEL=rootfs
//	vde    254:64 MBR disk (only with sfdisk), partitions 1, 2 (extended), 5, 6

const (
	uuidData = "3f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
	uuidSwap = "77665544-3322-4110-8fed-cba987654321"
	uuidRoot = "c0ffee00-1234-4abc-9def-0123456789ab"
)

type fakeMachine struct {
	t        testing.TB
	opts     Options
	imageDir string
}

func newFakeMachine(t testing.TB) *fakeMachine {
	root := t.TempDir()
	m := &fakeMachine{t: t, imageDir: filepath.Join(root, "images"),
		opts: Options{SysRoot: filepath.Join(root, "sys"), DevRoot: filepath.Join(root, "dev")}}
	for _, d := range []string{m.imageDir, m.opts.DevRoot, filepath.Join(m.opts.SysRoot, "class", "block")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m *fakeMachine) write(path, content string) {
	m.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		m.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content+"\n"), 0o644); err != nil {
		m.t.Fatal(err)
	}
}

// add registers a block device: under devices/virtual/block/<parent>/ for a
// partition (partNum > 0), devices/virtual/block/ for a disk.
func (m *fakeMachine) add(name, devNum, image, parent string, partNum int) {
	m.t.Helper()
	rel := filepath.Join("devices", "virtual", "block", name)
	if parent != "" {
		rel = filepath.Join("devices", "virtual", "block", parent, name)
	}
	dir := filepath.Join(m.opts.SysRoot, rel)
	st, err := os.Stat(image)
	if err != nil {
		m.t.Fatal(err)
	}
	m.write(filepath.Join(dir, "dev"), devNum)
	m.write(filepath.Join(dir, "size"), strconv.FormatInt(st.Size()/512, 10))
	if partNum > 0 {
		m.write(filepath.Join(dir, "partition"), strconv.Itoa(partNum))
	} else {
		m.write(filepath.Join(dir, "queue", "logical_block_size"), "512")
	}
	if err := os.Symlink(filepath.Join("..", "..", rel), filepath.Join(m.opts.SysRoot, "class", "block", name)); err != nil {
		m.t.Fatal(err)
	}
	if err := os.Symlink(image, filepath.Join(m.opts.DevRoot, name)); err != nil {
		m.t.Fatal(err)
	}
}

// ext makes an ext image with the given mkfs flavour, UUID and label.
func (m *fakeMachine) ext(mkfs, name, uuid, label string) string {
	m.t.Helper()
	img := filepath.Join(m.imageDir, name+".img")
	args := []string{"-q", "-F", "-L", label}
	if uuid != "" {
		args = append(args, "-U", uuid)
	}
	run(m.t, "", tool(m.t, mkfs, "e2fsprogs"), append(args, img, "4M")...)
	return img
}

// basic adds loop0, vdb and vdc: what needs only e2fsprogs and util-linux.
func (m *fakeMachine) basic() {
	m.add("loop0", "7:0", sparse(m.t, filepath.Join(m.imageDir, "loop0"), 0), "", 0)
	m.add("vdb", "254:16", m.ext("mkfs.ext4", "vdb", uuidData, "data"), "", 0)
	swap := sparse(m.t, filepath.Join(m.imageDir, "vdc.img"), 1<<20)
	run(m.t, "", tool(m.t, "mkswap", "util-linux"), "-U", uuidSwap, swap)
	m.add("vdc", "254:32", swap, "", 0)
}

// partitioned adds the GPT disk vda and the MBR disk vde with partitions.
func (m *fakeMachine) partitioned() {
	m.add("vda", "254:0", makeGPT(m.t, filepath.Join(m.imageDir, "vda.img")), "", 0)
	m.add("vda1", "254:1", m.ext("mkfs.ext2", "vda1", "", "boot"), "vda", 1)
	m.add("vda3", "254:3", m.ext("mkfs.ext4", "vda3", uuidRoot, "root"), "vda", 3)
	m.add("vde", "254:64", makeDOS(m.t, filepath.Join(m.imageDir, "vde.img")), "", 0)
	for _, n := range []int{1, 2, 5, 6} {
		name := "vde" + strconv.Itoa(n)
		m.add(name, "254:"+strconv.Itoa(64+n), sparse(m.t, filepath.Join(m.imageDir, name), 1<<20), "vde", n)
	}
}

func (m *fakeMachine) dev(name string) string { return filepath.Join(m.opts.DevRoot, name) }

func TestFind(t *testing.T) {
	m := newFakeMachine(t)
	m.basic()
	for _, c := range []struct{ spec, want string }{
		{"/dev/vdb", "vdb"},
		{"UUID=" + uuidData, "vdb"},
		{"UUID=" + strings.ToUpper(uuidData), "vdb"},
		{"uuid=" + uuidData, "vdb"},
		{"LABEL=data", "vdb"},
		{"/dev/disk/by-label/data", "vdb"}, // no udev: the link's name is read as LABEL=
		{"UUID=" + uuidSwap, "vdc"},        // found; FSTypeOf then says it is swap
		{"254:16", "vdb"},
		{"fe20", "vdc"}, // the kernel's hex form of 254:32
	} {
		got, err := Find(c.spec, m.opts)
		if err != nil || got != m.dev(c.want) {
			t.Errorf("Find(%q) = %q, %v; want %s", c.spec, got, err, m.dev(c.want))
		}
	}
	seen := "(block devices seen: loop0, vdb, vdc)"
	for _, spec := range []string{"/dev/vdz", "UUID=" + uuidRoot, "LABEL=Data", "7:1", "PARTUUID=" + gptPart1} {
		_, err := Find(spec, m.opts)
		var nf *NotFoundError
		if want := `root device "` + spec + `" not found ` + seen; err == nil || err.Error() != want || !errors.As(err, &nf) {
			t.Errorf("Find(%q) error = %v\nwant %s", spec, err, want)
		}
	}
	if _, err := FSTypeOf(m.dev("vdc")); !errors.Is(err, ErrNotFileSystem) {
		t.Errorf("FSTypeOf(vdc) = %v, want a not-a-file-system error", err)
	}
}

func TestFindPartitions(t *testing.T) {
	m := newFakeMachine(t)
	m.basic()
	m.partitioned()
	for _, c := range []struct{ spec, want string }{
		{"UUID=" + uuidRoot, "vda3"},
		{"LABEL=boot", "vda1"},
		{"PARTUUID=" + gptPart3, "vda3"},
		{"PARTUUID=" + strings.ToUpper(gptPart3), "vda3"},
		{"PARTUUID=" + gptPart1 + "/PARTNROFF=2", "vda3"},
		{"PARTLABEL=rootfs", "vda3"},
		{"PARTLABEL=EFI system", "vda1"},
		{"PARTUUID=1234abcd-05", "vde5"},
		{"PARTUUID=1234ABCD-06", "vde6"},
		{"PARTUUID=1234abcd-01/PARTNROFF=1", "vde2"},
		{"/dev/vda3", "vda3"},
	} {
		got, err := Find(c.spec, m.opts)
		if err != nil || got != m.dev(c.want) {
			t.Errorf("Find(%q) = %q, %v; want %s", c.spec, got, err, m.dev(c.want))
		}
	}
	if _, err := Find("PARTUUID="+gptPart3+"/PARTNROFF=1", m.opts); !errors.Is(err, ErrNotFound) {
		t.Errorf("offset past the last partition: %v", err)
	}
	// Probe through Options fills in the partition entry from the parent disk.
	info, err := m.opts.Probe(m.dev("vda3"))
	if err != nil || info.FSType != "ext4" || info.UUID != uuidRoot || info.PartUUID != gptPart3 ||
		info.PartLabel != "rootfs" || info.PartNum != 3 {
		t.Errorf("Probe(vda3) = %+v, %v", info, err)
	}
	// A partition with no file system still tells its PARTUUID, with the error.
	info, err = m.opts.Probe(m.dev("vde5"))
	if !errors.Is(err, ErrNotFileSystem) || info.PartUUID != "1234abcd-05" {
		t.Errorf("Probe(vde5) = %+v, %v", info, err)
	}
}

// Two devices with one label must not be resolved by whichever is listed
// first: a stick carrying the root's label could take its place.
func TestFindAmbiguous(t *testing.T) {
	m := newFakeMachine(t)
	m.basic()
	m.add("sda", "8:0", m.ext("mkfs.ext4", "sda", "", "data"), "", 0)
	_, err := Find("LABEL=data", m.opts)
	want := `root device "LABEL=data" matches more than one device: sda, vdb`
	if !errors.Is(err, ErrAmbiguous) || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestWaitTimeout(t *testing.T) {
	m := newFakeMachine(t)
	m.basic()
	spec := "UUID=" + uuidRoot
	start := time.Now()
	_, err := Wait(context.Background(), spec, m.opts, 300*time.Millisecond, 20*time.Millisecond)
	took := time.Since(start)
	want := `root device "UUID=` + uuidRoot + `" did not appear within 300ms (block devices seen: loop0, vdb, vdc)`
	var te *TimeoutError
	if err == nil || err.Error() != want || !errors.As(err, &te) || !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("Wait returned after %v, want about 300ms", took)
	}
}

func TestWaitNoDevices(t *testing.T) {
	m := newFakeMachine(t)
	_, err := Wait(context.Background(), "/dev/vda", m.opts, 0, 0)
	if want := `root device "/dev/vda" did not appear within 0s (no block devices seen)`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// A device that shows up while Wait polls is found (as a driver loading
// late would make it appear).
func TestWaitAppears(t *testing.T) {
	m := newFakeMachine(t)
	m.basic()
	m.add("vdd", "254:48", m.ext("mkfs.ext4", "late", uuidRoot, "late"), "", 0)
	link := filepath.Join(m.opts.SysRoot, "class", "block", "vdd")
	hidden := filepath.Join(m.opts.SysRoot, "vdd-not-yet")
	if err := os.Rename(link, hidden); err != nil {
		t.Fatal(err)
	}
	appeared := make(chan error, 1)
	go func() {
		time.Sleep(150 * time.Millisecond)
		appeared <- os.Rename(hidden, link)
	}()
	got, err := Wait(context.Background(), "LABEL=late", m.opts, 10*time.Second, 20*time.Millisecond)
	if err := <-appeared; err != nil {
		t.Fatal(err)
	}
	if err != nil || got != m.dev("vdd") {
		t.Errorf("Wait = %q, %v; want %s", got, err, m.dev("vdd"))
	}
}

func TestWaitStops(t *testing.T) {
	m := newFakeMachine(t)
	m.basic()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Wait(ctx, "LABEL=nothing", m.opts, time.Minute, 10*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled wait: %v after %v", err, time.Since(start))
	}
	// Errors that waiting cannot cure come back at once.
	for _, c := range []struct{ spec, opt, want string }{
		{"UUID=", "", `root device "UUID=": empty value`},
		{"vda1", "", `root device "vda1": not /dev/NAME`},
		{"LABEL=x", "nosys", "list block devices: open "},
	} {
		o := m.opts
		if c.opt == "nosys" {
			o.SysRoot = filepath.Join(t.TempDir(), "absent")
		}
		start := time.Now()
		_, err := Wait(context.Background(), c.spec, o, time.Minute, 10*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), c.want) || time.Since(start) > 5*time.Second {
			t.Errorf("Wait(%q) = %v, want an immediate error containing %q", c.spec, err, c.want)
		}
	}
}

func TestParseSpec(t *testing.T) {
	for _, c := range []struct {
		in           string
		kind         Kind
		value        string
		major, minor uint32
		off          int
	}{
		{"/dev/vda1", ByPath, "/dev/vda1", 0, 0, 0},
		{"/dev/mapper/root", ByPath, "/dev/mapper/root", 0, 0, 0},
		{"UUID=abc", ByUUID, "abc", 0, 0, 0},
		{"LABEL=my root", ByLabel, "my root", 0, 0, 0},
		{"PARTUUID=abc-01", ByPartUUID, "abc-01", 0, 0, 0},
		{"PARTUUID=abc/PARTNROFF=-1", ByPartUUID, "abc", 0, 0, -1},
		{"PARTLABEL=root", ByPartLabel, "root", 0, 0, 0},
		{`LABEL=my\x20root`, ByLabel, "my root", 0, 0, 0},
		{`LABEL=odd\xZZ`, ByLabel, `odd\xZZ`, 0, 0, 0},
		{"/dev/disk/by-uuid/abc", ByUUID, "abc", 0, 0, 0},
		{`/dev/disk/by-label/my\x20root`, ByLabel, "my root", 0, 0, 0},
		{"/dev/disk/by-partuuid/abc-02", ByPartUUID, "abc-02", 0, 0, 0},
		{"/dev/disk/by-partlabel/rootfs", ByPartLabel, "rootfs", 0, 0, 0},
		{"8:3", ByDevNum, "8:3", 8, 3, 0},
		{"803", ByDevNum, "803", 8, 3, 0},
		{"fe01", ByDevNum, "fe01", 254, 1, 0},
		{"100fe01", ByDevNum, "100fe01", 254, 4097, 0}, // the minor's upper bits sit above bit 20
	} {
		sp, err := ParseSpec(c.in)
		if err != nil || sp.Kind != c.kind || sp.Value != c.value || sp.Major != c.major ||
			sp.Minor != c.minor || sp.PartNrOffset != c.off {
			t.Errorf("ParseSpec(%q) = %+v, %v", c.in, sp, err)
		}
	}
	for _, bad := range []string{"", "/dev/", "/dev/../etc/passwd", "/dev/disk/by-uuid/", "LABEL=", "PARTUUID=abc/PARTNROFF=x", "PARTUUID=abc/OTHER=1", "8:x", "zz", "sda1"} {
		if sp, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) = %+v, want an error", bad, sp)
		}
	}
}

// A device that cannot be read is passed over (and reported to Debug), not
// allowed to stop the search.
func TestFindSkipsUnreadable(t *testing.T) {
	m := newFakeMachine(t)
	m.basic()
	gone := sparse(t, filepath.Join(m.imageDir, "gone"), 1<<20)
	m.add("sdz", "8:240", gone, "", 0)
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	var heard []string
	m.opts.Debug = func(format string, args ...any) { heard = append(heard, fmt.Sprintf(format, args...)) }
	got, err := Find("LABEL=data", m.opts)
	if err != nil || got != m.dev("vdb") {
		t.Fatalf("Find = %q, %v", got, err)
	}
	want := "blockdev: skip sdz: probe " + m.dev("sdz") + ": open: "
	if len(heard) != 1 || !strings.HasPrefix(heard[0], want) || !strings.HasSuffix(heard[0], "no such file or directory") {
		t.Errorf("Debug heard %q, want one line starting %q", heard, want)
	}
}
