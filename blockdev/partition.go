package blockdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// Partition is one entry of a disk's partition table, numbered as the
// kernel numbers its partition devices (vdaN).
type Partition struct {
	Number int
	UUID   string // what the kernel matches PARTUUID= against, lower case
	Name   string // GPT partition name (PARTLABEL=); MBR has none
	Start  uint64 // first sector, in the table's sector size
}

// Table is a disk's partition table.
type Table struct {
	Kind       string // "gpt" or "dos"
	DiskID     string // GPT disk GUID, or the MBR disk signature
	Partitions []Partition
}

// Lookup returns the entry for partition number n.
func (t Table) Lookup(n int) (Partition, bool) {
	for _, p := range t.Partitions {
		if p.Number == n {
			return p, true
		}
	}
	return Partition{}, false
}

// ErrNoTable says a disk holds neither a GPT nor an MBR partition table.
var ErrNoTable = errors.New("no partition table")

// ReadTable reads the partition table of the disk (or image file) at path.
// sectorSize is the disk's logical block size; 0 means 512. A protective
// MBR leads to the GPT (the primary header, else the backup at the last
// sector); headers and entry arrays are CRC-checked as the kernel does.
func ReadTable(path string, sectorSize int) (Table, error) {
	if sectorSize <= 0 {
		sectorSize = 512
	}
	f, err := os.Open(path)
	if err != nil {
		return Table{}, fmt.Errorf("read partition table of %s: %w", path, err)
	}
	defer f.Close()
	mbr := make([]byte, 512)
	if _, err := f.ReadAt(mbr, 0); err != nil {
		return Table{}, fmt.Errorf("read partition table of %s: read sector 0: %w", path, err)
	}
	switch mbrKind(mbr) {
	case "gpt":
		t, err := readGPT(f, sectorSize)
		if err != nil {
			return Table{}, fmt.Errorf("read partition table of %s: %w", path, err)
		}
		return t, nil
	case "dos":
		t, err := readMBR(f, mbr, sectorSize)
		if err != nil {
			return Table{}, fmt.Errorf("read partition table of %s: %w", path, err)
		}
		return t, nil
	}
	return Table{}, fmt.Errorf("read partition table of %s: %w", path, ErrNoTable)
}

// tableKind names the partition table in a disk's first bytes, for error
// messages about whole disks.
func tableKind(head []byte) string {
	if len(head) < 512 {
		return ""
	}
	return mbrKind(head[:512])
}

// mbrKind: "gpt" for a protective MBR (an entry of type 0xEE), "dos" for a
// plausible MBR (55AA, boot flags 0 or 0x80, some entry in use), else "".
func mbrKind(mbr []byte) string {
	if mbr[510] != 0x55 || mbr[511] != 0xAA {
		return ""
	}
	used := false
	for i := 0; i < 4; i++ {
		e := mbr[446+16*i:]
		if e[0] != 0 && e[0] != 0x80 {
			return "" // the kernel's test too: likely a FAT boot sector
		}
		if e[4] == 0xEE {
			return "gpt"
		}
		if e[4] != 0 {
			used = true
		}
	}
	if used {
		return "dos"
	}
	return ""
}

// readGPT reads the primary GPT header at LBA 1, or the backup one at the
// last LBA when the primary is damaged.
func readGPT(f *os.File, ss int) (Table, error) {
	t, perr := readGPTAt(f, ss, 1)
	if perr == nil {
		return t, nil
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil || size < int64(2*ss) {
		return Table{}, perr
	}
	t, berr := readGPTAt(f, ss, uint64(size/int64(ss))-1)
	if berr != nil {
		return Table{}, fmt.Errorf("%v; backup: %v", perr, berr)
	}
	return t, nil
}

// readGPTAt reads a GPT header at lba and its entries. Layout (UEFI spec):
// "EFI PART", header size at 12, header CRC at 16, disk GUID at 56, entries'
// LBA at 72, count at 80, entry size at 84, entries' CRC at 88. An entry
// holds type GUID, unique GUID at 16, first LBA at 32, name[72] at 56.
func readGPTAt(f *os.File, ss int, lba uint64) (Table, error) {
	hdr := make([]byte, ss)
	if _, err := f.ReadAt(hdr, int64(lba)*int64(ss)); err != nil {
		return Table{}, fmt.Errorf("gpt header at LBA %d: %w", lba, err)
	}
	if string(hdr[0:8]) != "EFI PART" {
		return Table{}, fmt.Errorf("gpt header at LBA %d: no EFI PART signature", lba)
	}
	hsize := binary.LittleEndian.Uint32(hdr[12:])
	if hsize < 92 || int(hsize) > ss {
		return Table{}, fmt.Errorf("gpt header at LBA %d: bad header size %d", lba, hsize)
	}
	if my := binary.LittleEndian.Uint64(hdr[24:]); my != lba {
		return Table{}, fmt.Errorf("gpt header at LBA %d: says it is at LBA %d", lba, my)
	}
	h := bytes.Clone(hdr[:hsize])
	want := binary.LittleEndian.Uint32(h[16:])
	clear(h[16:20])
	if crc32.ChecksumIEEE(h) != want {
		return Table{}, fmt.Errorf("gpt header at LBA %d: header CRC mismatch", lba)
	}
	entLBA := binary.LittleEndian.Uint64(hdr[72:])
	count := binary.LittleEndian.Uint32(hdr[80:])
	esize := binary.LittleEndian.Uint32(hdr[84:])
	if esize < 128 || esize%8 != 0 || count == 0 || uint64(count)*uint64(esize) > 1<<20 {
		return Table{}, fmt.Errorf("gpt header at LBA %d: bad entry array (%d entries of %d bytes)", lba, count, esize)
	}
	ents := make([]byte, int(count)*int(esize))
	if _, err := f.ReadAt(ents, int64(entLBA)*int64(ss)); err != nil {
		return Table{}, fmt.Errorf("gpt entries at LBA %d: %w", entLBA, err)
	}
	if crc32.ChecksumIEEE(ents) != binary.LittleEndian.Uint32(hdr[88:]) {
		return Table{}, fmt.Errorf("gpt entries at LBA %d: CRC mismatch", entLBA)
	}
	t := Table{Kind: "gpt", DiskID: formatGUID(hdr[56:72])}
	zero := make([]byte, 16)
	for i := 0; i < int(count); i++ {
		e := ents[i*int(esize) : (i+1)*int(esize)]
		if bytes.Equal(e[0:16], zero) {
			continue // unused entry; numbers still follow the slot, as in the kernel
		}
		t.Partitions = append(t.Partitions, Partition{
			Number: i + 1,
			UUID:   formatGUID(e[16:32]),
			Name:   utf16Name(e[56:128]),
			Start:  binary.LittleEndian.Uint64(e[32:]),
		})
	}
	return t, nil
}

// formatGUID prints an on-disk GUID as the kernel's %pUl does: the first
// three fields little-endian, lower case.
func formatGUID(g []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(g[0:]), binary.LittleEndian.Uint16(g[4:]),
		binary.LittleEndian.Uint16(g[6:]), g[8:10], g[10:16])
}

func isExtended(typ byte) bool { return typ == 0x05 || typ == 0x0F || typ == 0x85 }

// readMBR lists the four primary slots (1-4) and the logical partitions
// (5 on) found by following the chain of extended boot records. The kernel
// names each "SSSSSSSS-NN": disk signature (at 440) and slot, in hex.
func readMBR(f *os.File, mbr []byte, ss int) (Table, error) {
	sig := binary.LittleEndian.Uint32(mbr[440:])
	t := Table{Kind: "dos", DiskID: fmt.Sprintf("%08x", sig)}
	add := func(slot int, start uint64) {
		t.Partitions = append(t.Partitions, Partition{
			Number: slot, UUID: fmt.Sprintf("%08x-%02x", sig, slot), Start: start,
		})
	}
	var extStart uint64
	for i := 0; i < 4; i++ {
		e := mbr[446+16*i:]
		start := uint64(binary.LittleEndian.Uint32(e[8:]))
		if e[4] == 0 || binary.LittleEndian.Uint32(e[12:]) == 0 {
			continue
		}
		add(i+1, start)
		if isExtended(e[4]) && extStart == 0 {
			extStart = start
		}
	}
	if extStart == 0 {
		return t, nil
	}
	slot, next := 5, extStart
	ebr := make([]byte, 512)
	for hops := 0; next != 0 && hops < 128; hops++ {
		if _, err := f.ReadAt(ebr, int64(next)*int64(ss)); err != nil {
			return t, fmt.Errorf("extended boot record at sector %d: %w", next, err)
		}
		if ebr[510] != 0x55 || ebr[511] != 0xAA {
			break
		}
		cur, link := next, uint64(0)
		for i := 0; i < 4; i++ {
			e := ebr[446+16*i:]
			start := uint64(binary.LittleEndian.Uint32(e[8:]))
			if e[4] == 0 || binary.LittleEndian.Uint32(e[12:]) == 0 {
				continue
			}
			if isExtended(e[4]) {
				if link == 0 {
					link = extStart + start // links are relative to the extended partition
				}
				continue
			}
			add(slot, cur+start) // data entries are relative to this EBR
			slot++
		}
		next = link
	}
	return t, nil
}
