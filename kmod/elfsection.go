package kmod

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// elfSection returns the bytes of the named section of an ELF image. It
// reads only the section header table and its name table, instead of
// debug/elf, which (with the zstd and DWARF readers it pulls in) costs
// imaboot-init about 120 KiB for this one lookup. Both classes and byte
// orders are read; a compressed section (SHF_COMPRESSED) is refused.
// A missing section is (nil, nil).
func elfSection(img []byte, name string) ([]byte, error) {
	if len(img) < 16 || string(img[:4]) != "\x7fELF" {
		return nil, errors.New("bad ELF magic")
	}
	var bo binary.ByteOrder
	switch img[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("unknown ELF data encoding %d", img[5])
	}
	// Offsets and sizes of e_shoff, e_shentsize, e_shnum, e_shstrndx and of
	// a section header's fields, by class.
	var (
		shoff                      uint64
		entsize, count, strndx     int
		hdrMin                     int
		fName, fFlags, fOff, fSize int
		word                       int // 4 or 8: width of sh_flags, sh_offset, sh_size
	)
	switch img[4] {
	case 1: // ELFCLASS32
		if len(img) < 52 {
			return nil, errors.New("ELF header cut short")
		}
		shoff = uint64(bo.Uint32(img[32:]))
		entsize, count, strndx = int(bo.Uint16(img[46:])), int(bo.Uint16(img[48:])), int(bo.Uint16(img[50:]))
		hdrMin, fName, fFlags, fOff, fSize, word = 40, 0, 8, 16, 20, 4
	case 2: // ELFCLASS64
		if len(img) < 64 {
			return nil, errors.New("ELF header cut short")
		}
		shoff = bo.Uint64(img[40:])
		entsize, count, strndx = int(bo.Uint16(img[58:])), int(bo.Uint16(img[60:])), int(bo.Uint16(img[62:]))
		hdrMin, fName, fFlags, fOff, fSize, word = 64, 0, 8, 24, 32, 8
	default:
		return nil, fmt.Errorf("unknown ELF class %d", img[4])
	}
	if count == 0 {
		return nil, nil
	}
	if entsize < hdrMin {
		return nil, fmt.Errorf("section header size %d too small", entsize)
	}
	if shoff > uint64(len(img)) || uint64(count)*uint64(entsize) > uint64(len(img))-shoff {
		return nil, errors.New("section header table beyond the end of the file")
	}
	field := func(b []byte) uint64 {
		if word == 4 {
			return uint64(bo.Uint32(b))
		}
		return bo.Uint64(b)
	}
	header := func(i int) []byte { return img[shoff+uint64(i*entsize):][:entsize] }
	contents := func(h []byte) ([]byte, error) {
		off, size := field(h[fOff:]), field(h[fSize:])
		if bo.Uint32(h[4:]) == 8 { // SHT_NOBITS: no bytes in the file
			return []byte{}, nil
		}
		if off > uint64(len(img)) || size > uint64(len(img))-off {
			return nil, errors.New("section beyond the end of the file")
		}
		return img[off : off+size], nil
	}
	if strndx >= count {
		return nil, fmt.Errorf("section name table index %d out of range", strndx)
	}
	names, err := contents(header(strndx))
	if err != nil {
		return nil, fmt.Errorf("section name table: %w", err)
	}
	for i := range count {
		h := header(i)
		off := uint64(bo.Uint32(h[fName:]))
		if off >= uint64(len(names)) {
			continue
		}
		n := names[off:]
		if end := bytes.IndexByte(n, 0); end >= 0 {
			n = n[:end]
		}
		if string(n) != name {
			continue
		}
		if field(h[fFlags:])&0x800 != 0 { // SHF_COMPRESSED
			return nil, fmt.Errorf("section %s is compressed", name)
		}
		data, err := contents(h)
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", name, err)
		}
		return data, nil
	}
	return nil, nil
}
