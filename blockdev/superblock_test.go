package blockdev

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each image below is made by the real mkfs tool and read back both by
// Probe and by util-linux's blkid, which must agree.

func TestProbeExt(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		mkfs, want string
		extra      []string
	}{
		{"mkfs.ext2", "ext2", nil},
		{"mkfs.ext3", "ext3", nil},
		{"mkfs.ext4", "ext4", nil},
		{"mkfs.ext4", "ext4", []string{"-O", "^has_journal"}}, // no journal, still ext4 features
	} {
		prog := tool(t, c.mkfs, "e2fsprogs")
		uuid := "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"
		img := filepath.Join(dir, c.want+strings.Join(c.extra, "")+".img")
		args := append([]string{"-q", "-F", "-U", uuid, "-L", "root-" + c.want}, c.extra...)
		run(t, "", prog, append(args, img, "8M")...)
		info, err := Probe(img)
		if err != nil {
			t.Fatalf("%s: %v", img, err)
		}
		if info.FSType != c.want || info.UUID != uuid || info.Label != "root-"+c.want {
			t.Errorf("%s %v: got %+v", c.mkfs, c.extra, info)
		}
		sameAsBlkid(t, img, info)
		if got, err := FSTypeOf(img); err != nil || got != c.want {
			t.Errorf("FSTypeOf(%s) = %q, %v", img, got, err)
		}
	}
}

func TestProbeVFAT(t *testing.T) {
	prog := tool(t, "mkfs.vfat", "dosfstools")
	dir := t.TempDir()
	for _, c := range []struct {
		fat, size string
	}{{"12", "1024"}, {"16", "16384"}, {"32", "65536"}} {
		img := filepath.Join(dir, "fat"+c.fat+".img")
		run(t, "", prog, "-C", "-F", c.fat, "-i", "1a2b3c4d", "-n", "ESP"+c.fat, img, c.size)
		info, err := Probe(img)
		if err != nil {
			t.Fatalf("FAT%s: %v", c.fat, err)
		}
		if info.FSType != "vfat" || info.UUID != "1A2B-3C4D" || info.Label != "ESP"+c.fat {
			t.Errorf("FAT%s: got %+v", c.fat, info)
		}
		sameAsBlkid(t, img, info)
	}
}

// busybox's mkdosfs is in every CI (busybox-static) even without dosfstools.
func TestProbeVFATBusybox(t *testing.T) {
	prog := tool(t, "busybox", "busybox-static")
	img := sparse(t, filepath.Join(t.TempDir(), "bb.img"), 40<<20)
	run(t, "", prog, "mkdosfs", "-n", "BBFAT", img)
	info, err := Probe(img)
	if err != nil {
		t.Fatal(err)
	}
	if info.FSType != "vfat" || info.Label != "BBFAT" || len(info.UUID) != 9 || info.UUID[4] != '-' {
		t.Errorf("got %+v", info)
	}
	sameAsBlkid(t, img, info)
}

func TestProbeXFS(t *testing.T) {
	prog := tool(t, "mkfs.xfs", "xfsprogs")
	img := sparse(t, filepath.Join(t.TempDir(), "xfs.img"), 300<<20)
	uuid := "5d7a3b2c-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	run(t, "", prog, "-q", "-f", "-m", "uuid="+uuid, "-L", "xroot", img)
	info, err := Probe(img)
	if err != nil {
		t.Fatal(err)
	}
	if info.FSType != "xfs" || info.UUID != uuid || info.Label != "xroot" {
		t.Errorf("got %+v", info)
	}
	sameAsBlkid(t, img, info)
}

func TestProbeBtrfs(t *testing.T) {
	prog := tool(t, "mkfs.btrfs", "btrfs-progs")
	img := sparse(t, filepath.Join(t.TempDir(), "btrfs.img"), 128<<20)
	uuid := "9a8b7c6d-5e4f-4321-9abc-def012345678"
	run(t, "", prog, "-q", "-f", "-U", uuid, "-L", "broot", img)
	info, err := Probe(img)
	if err != nil {
		t.Fatal(err)
	}
	if info.FSType != "btrfs" || info.UUID != uuid || info.Label != "broot" {
		t.Errorf("got %+v", info)
	}
	sameAsBlkid(t, img, info)
}

func TestProbeSquashfsEROFSISO(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "hello"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("squashfs", func(t *testing.T) {
		prog := tool(t, "mksquashfs", "squashfs-tools")
		img := filepath.Join(dir, "sq.img")
		run(t, "", prog, src, img, "-quiet", "-noappend", "-no-progress")
		info, err := Probe(img)
		if err != nil || info.FSType != "squashfs" {
			t.Fatalf("got %+v, %v", info, err)
		}
		sameAsBlkid(t, img, info)
	})
	t.Run("erofs", func(t *testing.T) {
		prog := tool(t, "mkfs.erofs", "erofs-utils")
		img := filepath.Join(dir, "erofs.img")
		uuid := "11223344-5566-4778-899a-abbccddeeff0"
		run(t, "", prog, "--quiet", "-U"+uuid, img, src)
		info, err := Probe(img)
		if err != nil || info.FSType != "erofs" || info.UUID != uuid {
			t.Fatalf("got %+v, %v", info, err)
		}
		sameAsBlkid(t, img, info)
	})
	t.Run("iso9660", func(t *testing.T) {
		prog := tool(t, "genisoimage", "genisoimage")
		img := filepath.Join(dir, "cd.iso")
		run(t, "", prog, "-quiet", "-V", "INSTALL_CD", "-o", img, src)
		info, err := Probe(img)
		if err != nil || info.FSType != "iso9660" || info.Label != "INSTALL_CD" {
			t.Fatalf("got %+v, %v", info, err)
		}
		if want := blkid(t, img); want["TYPE"] != "iso9660" || want["LABEL"] != info.Label {
			t.Errorf("blkid says %v", want)
		}
	})
}

func TestProbeSwap(t *testing.T) {
	prog := tool(t, "mkswap", "util-linux")
	img := sparse(t, filepath.Join(t.TempDir(), "swap.img"), 4<<20)
	uuid := "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
	run(t, "", prog, "-U", uuid, "-L", "swp", img)
	info, err := Probe(img)
	if err != nil {
		t.Fatal(err)
	}
	if info.FSType != "swap" || info.UUID != uuid || info.Label != "swp" || info.IsFileSystem() {
		t.Errorf("got %+v (IsFileSystem %v)", info, info.IsFileSystem())
	}
	sameAsBlkid(t, img, info)
	_, err = FSTypeOf(img)
	if want := "not a file system: " + img + " (swap space)"; err == nil || err.Error() != want {
		t.Errorf("FSTypeOf(swap) error = %v, want %q", err, want)
	}
	if !errors.Is(err, ErrNotFileSystem) {
		t.Errorf("error %v does not match ErrNotFileSystem", err)
	}
}

func TestProbeNothing(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int64{0, 100, 1 << 20} {
		img := sparse(t, filepath.Join(dir, "zero.img"), size)
		_, err := Probe(img)
		if want := "not a file system: " + img + " (no known superblock)"; err == nil || err.Error() != want {
			t.Errorf("size %d: error = %v, want %q", size, err, want)
		}
		if _, err := FSTypeOf(img); !errors.Is(err, ErrNotFileSystem) {
			t.Errorf("FSTypeOf size %d: %v", size, err)
		}
	}
	_, err := Probe(filepath.Join(dir, "missing"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
}

// An external ext4 journal carries the ext magic but cannot be mounted.
func TestProbeExtJournalDevice(t *testing.T) {
	prog := tool(t, "mkfs.ext4", "e2fsprogs")
	img := filepath.Join(t.TempDir(), "journal.img")
	run(t, "", prog, "-q", "-F", "-O", "journal_dev", "-b", "4096", img, "4M")
	info, err := Probe(img)
	if err != nil || info.FSType != "jbd" || info.IsFileSystem() {
		t.Fatalf("got %+v, %v", info, err)
	}
	sameAsBlkid(t, img, info)
	_, err = FSTypeOf(img)
	if want := "not a file system: " + img + " (an external ext3/ext4 journal)"; err == nil || err.Error() != want {
		t.Errorf("FSTypeOf = %v, want %q", err, want)
	}
}
