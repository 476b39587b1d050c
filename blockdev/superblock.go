package blockdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf16"
)

// Info is what a device says about itself: its superblock (FSType, UUID,
// Label) and, for a partition, the parent disk's table entry.
type Info struct {
	FSType    string // as blkid names it: ext4, xfs, vfat, swap, ...
	UUID      string // file system UUID (vfat: XXXX-XXXX), "" if the type has none
	Label     string
	PartUUID  string // GPT unique partition GUID or MBR "ssssssss-nn", lower case
	PartLabel string // GPT partition name
	PartNum   int    // partition number, 0 for a whole disk
}

// IsFileSystem says whether the device holds something mount(2) can take;
// swap and suspend images do not.
func (i Info) IsFileSystem() bool {
	return i.FSType != "" && notMountable[i.FSType] == ""
}

// notMountable says what a recognised but unmountable content is.
var notMountable = map[string]string{
	"swap":      "swap space",
	"swsuspend": "a suspend-to-disk image",
	"jbd":       "an external ext3/ext4 journal",
}

// ErrNotFileSystem is matched (errors.Is) by every NotFileSystemError.
var ErrNotFileSystem = errors.New("not a file system")

// NotFileSystemError says that a device holds no file system and what it
// holds instead, so the agent can report "root that is not a file system".
type NotFileSystemError struct {
	Path   string
	Reason string // "no known superblock", "swap space", "gpt partition table ..."
}

func (e *NotFileSystemError) Error() string {
	return fmt.Sprintf("not a file system: %s (%s)", e.Path, e.Reason)
}

// Is lets errors.Is(err, ErrNotFileSystem) match.
func (e *NotFileSystemError) Is(target error) bool { return target == ErrNotFileSystem }

// probeSize covers every superblock read here: btrfs's ends at 64 KiB + 4 KiB,
// and swap's signature sits at the end of a page of up to 64 KiB.
const probeSize = 0x11000

// Probe reads the superblock at path (a device or an image file) and, when
// path names a partition known to /sys, the parent disk's table entry.
// A device with no known superblock gives a *NotFileSystemError.
func Probe(path string) (Info, error) {
	return Options{}.Probe(path)
}

// FSTypeOf returns the file system type at path for mount(2), or a
// *NotFileSystemError when it holds swap, a bare partition table or nothing
// known.
func FSTypeOf(path string) (string, error) {
	info, err := probeSuperblock(path)
	if err != nil {
		return "", err
	}
	if !info.IsFileSystem() {
		return "", &NotFileSystemError{Path: path, Reason: notMountable[info.FSType]}
	}
	return info.FSType, nil
}

// probeSuperblock reads the head of path and recognises its content.
func probeSuperblock(path string) (Info, error) {
	head, err := readHead(path, probeSize)
	if err != nil {
		return Info{}, err
	}
	if info, ok := recognise(head); ok {
		return info, nil
	}
	reason := "no known superblock"
	if t := tableKind(head); t != "" {
		reason = "holds a " + t + " partition table: name a partition, not the whole disk"
	}
	return Info{}, &NotFileSystemError{Path: path, Reason: reason}
}

// readHead reads up to n bytes from the start of path; a short file is fine.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("probe %s: open: %w", path, err)
	}
	defer f.Close()
	buf := make([]byte, n)
	got, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("probe %s: read superblock area: %w", path, err)
	}
	return buf[:got], nil
}

// recognise tries each known layout; the ones with strong magic numbers come
// first, vfat (the weakest signature) and swap last.
func recognise(b []byte) (Info, bool) {
	for _, p := range []func([]byte) (Info, bool){
		probeExt, probeXFS, probeBtrfs, probeSquashfs, probeEROFS, probeISO9660, probeVFAT, probeSwap,
	} {
		if info, ok := p(b); ok {
			return info, true
		}
	}
	return Info{}, false
}

// at returns b[off:off+n] or nil when b is too short.
func at(b []byte, off, n int) []byte {
	if off < 0 || off+n > len(b) {
		return nil
	}
	return b[off : off+n]
}

// formatUUID prints 16 bytes in the usual 8-4-4-4-12 lower-case form, in
// on-disk byte order (ext4, xfs, btrfs, erofs, swap store them that way).
func formatUUID(u []byte) string {
	if len(u) != 16 || bytes.Equal(u, make([]byte, 16)) {
		return ""
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// cString cuts a fixed-size on-disk label at its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// ext2/3/4 feature bits (from the kernel's fs/ext4/ext4.h) that tell the
// three apart the way blkid does: anything an ext3 driver would not know
// makes it ext4.
const (
	extCompatHasJournal   = 0x0004
	extIncompatFiletype   = 0x0002
	extIncompatRecover    = 0x0004
	extIncompatJournalDev = 0x0008
	extIncompatMetaBG     = 0x0010
	extROCompatSparse     = 0x0001
	extROCompatLargeFile  = 0x0002
	extROCompatBtreeDir   = 0x0004

	ext2Incompat = extIncompatFiletype | extIncompatMetaBG
	ext3Incompat = ext2Incompat | extIncompatRecover
	ext2ROCompat = extROCompatSparse | extROCompatLargeFile | extROCompatBtreeDir
)

// probeExt reads the ext superblock at 1024: magic 0xEF53 at 0x38, UUID at
// 0x68, label at 0x78, feature words at 0x5C/0x60/0x64.
func probeExt(b []byte) (Info, bool) {
	sb := at(b, 1024, 1024)
	if sb == nil || binary.LittleEndian.Uint16(sb[0x38:]) != 0xEF53 {
		return Info{}, false
	}
	// Two magic bytes are easy to hit by chance: also ask for a block size
	// of at most 64 KiB (s_log_block_size) and a known revision (s_rev_level).
	if binary.LittleEndian.Uint32(sb[0x18:]) > 6 || binary.LittleEndian.Uint32(sb[0x4C:]) > 1 {
		return Info{}, false
	}
	compat := binary.LittleEndian.Uint32(sb[0x5C:])
	incompat := binary.LittleEndian.Uint32(sb[0x60:])
	rocompat := binary.LittleEndian.Uint32(sb[0x64:])
	var t string
	switch {
	case incompat&extIncompatJournalDev != 0:
		t = "jbd" // an external journal, not mountable by itself
	case compat&extCompatHasJournal != 0 && incompat&^ext3Incompat == 0 && rocompat&^ext2ROCompat == 0:
		t = "ext3"
	case compat&extCompatHasJournal == 0 && incompat&^ext2Incompat == 0 && rocompat&^ext2ROCompat == 0:
		t = "ext2"
	default:
		t = "ext4"
	}
	return Info{FSType: t, UUID: formatUUID(sb[0x68:0x78]), Label: cString(sb[0x78:0x88])}, true
}

// probeXFS: "XFSB" at 0, sb_blocksize at 4, sb_uuid at 32, sb_fname[12] at 108.
func probeXFS(b []byte) (Info, bool) {
	sb := at(b, 0, 120)
	if sb == nil || string(sb[0:4]) != "XFSB" {
		return Info{}, false
	}
	bs := binary.BigEndian.Uint32(sb[4:])
	if bs < 512 || bs > 65536 || bs&(bs-1) != 0 {
		return Info{}, false
	}
	return Info{FSType: "xfs", UUID: formatUUID(sb[32:48]), Label: cString(sb[108:120])}, true
}

// probeBtrfs: the superblock at 64 KiB has "_BHRfS_M" at 0x40, fsid at 0x20
// and label[256] at 0x12b.
func probeBtrfs(b []byte) (Info, bool) {
	sb := at(b, 0x10000, 0x12b+256)
	if sb == nil || string(sb[0x40:0x48]) != "_BHRfS_M" {
		return Info{}, false
	}
	return Info{FSType: "btrfs", UUID: formatUUID(sb[0x20:0x30]), Label: cString(sb[0x12b : 0x12b+256])}, true
}

// probeSquashfs: "hsqs" (little-endian magic) at 0; squashfs has no UUID or label.
func probeSquashfs(b []byte) (Info, bool) {
	m := at(b, 0, 4)
	if m == nil || (string(m) != "hsqs" && string(m) != "sqsh") {
		return Info{}, false
	}
	return Info{FSType: "squashfs"}, true
}

// probeEROFS: magic 0xE0F5E1E2 at 1024, uuid at +48, volume_name[16] at +64.
func probeEROFS(b []byte) (Info, bool) {
	sb := at(b, 1024, 80)
	if sb == nil || binary.LittleEndian.Uint32(sb) != 0xE0F5E1E2 {
		return Info{}, false
	}
	return Info{FSType: "erofs", UUID: formatUUID(sb[48:64]), Label: cString(sb[64:80])}, true
}

// probeISO9660: the primary volume descriptor at sector 16 (2 KiB sectors):
// type 1, "CD001", volume identifier[32] at 40, space padded.
func probeISO9660(b []byte) (Info, bool) {
	pvd := at(b, 0x8000, 72)
	if pvd == nil || pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		return Info{}, false
	}
	return Info{FSType: "iso9660", Label: strings.TrimRight(string(pvd[40:72]), " \x00")}, true
}

// probeVFAT checks a FAT boot sector's BIOS parameter block for sane values
// and a FAT type string, then reads the volume id and label from the
// extended BPB (at 0x26 for FAT12/16, 0x42 for FAT32).
func probeVFAT(b []byte) (Info, bool) {
	bs := at(b, 0, 512)
	if bs == nil || bs[510] != 0x55 || bs[511] != 0xAA {
		return Info{}, false
	}
	if !(bs[0] == 0xEB && bs[2] == 0x90) && bs[0] != 0xE9 {
		return Info{}, false
	}
	sectorSize := binary.LittleEndian.Uint16(bs[0x0B:])
	perCluster := bs[0x0D]
	reserved := binary.LittleEndian.Uint16(bs[0x0E:])
	fats := bs[0x10]
	if sectorSize < 512 || sectorSize > 4096 || sectorSize&(sectorSize-1) != 0 ||
		perCluster == 0 || perCluster&(perCluster-1) != 0 || reserved == 0 || fats == 0 || fats > 2 {
		return Info{}, false
	}
	ext := 0x26 // FAT12/16 extended BPB
	if binary.LittleEndian.Uint16(bs[0x16:]) == 0 {
		ext = 0x42 // FAT32: sectors per FAT16 is 0
	}
	if !strings.HasPrefix(string(bs[ext+0x10:ext+0x18]), "FAT") && bs[ext] != 0x29 && bs[ext] != 0x28 {
		return Info{}, false
	}
	info := Info{FSType: "vfat"}
	if bs[ext] == 0x29 || bs[ext] == 0x28 {
		id := bs[ext+1 : ext+5]
		info.UUID = fmt.Sprintf("%02X%02X-%02X%02X", id[3], id[2], id[1], id[0])
	}
	if bs[ext] == 0x29 {
		if l := strings.TrimRight(string(bs[ext+5:ext+16]), " \x00"); l != "NO NAME" {
			info.Label = l
		}
	}
	return info, true
}

// probeSwap looks for the swap signature in the last 10 bytes of the first
// page, for each page size Linux uses; a v1 header has uuid at 1036 and
// volume_name[16] at 1052.
func probeSwap(b []byte) (Info, bool) {
	for _, page := range []int{4096, 8192, 16384, 32768, 65536} {
		sig := at(b, page-10, 10)
		if sig == nil {
			break
		}
		switch s := string(sig); {
		case s == "SWAPSPACE2":
			return Info{FSType: "swap", UUID: formatUUID(b[1036:1052]), Label: cString(b[1052:1068])}, true
		case s == "SWAP-SPACE":
			return Info{FSType: "swap"}, true
		case strings.HasSuffix(s, "SUSPEND") || s == "LINHIB0001":
			return Info{FSType: "swsuspend"}, true
		}
	}
	return Info{}, false
}

// utf16Name decodes a GPT partition name (UTF-16LE, NUL padded).
func utf16Name(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
