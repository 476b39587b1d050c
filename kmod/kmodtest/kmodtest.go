// Package kmodtest builds fake kernel module trees for tests: minimal ELF
// relocatable files carrying only a .modinfo section, plain or compressed,
// laid out as a kernel package would (lib/modules/KVER/kernel/...).
package kmodtest

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

// ModuleELF returns a minimal x86-64 ELF relocatable object whose .modinfo
// section holds the given "key=value" strings, as a kernel module's does.
func ModuleELF(modinfo ...string) []byte {
	var info []byte
	for _, kv := range modinfo {
		info = append(info, kv...)
		info = append(info, 0)
	}
	shstr := []byte("\x00.modinfo\x00.shstrtab\x00")
	const ehsize, shentsize = 64, 64
	infoOff := uint64(ehsize)
	shstrOff := infoOff + uint64(len(info))
	shOff := (shstrOff + uint64(len(shstr)) + 7) &^ 7

	var b bytes.Buffer
	hdr := elf.Header64{
		Type: uint16(elf.ET_REL), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Shoff: shOff, Ehsize: ehsize, Shentsize: shentsize, Shnum: 3, Shstrndx: 2,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&b, binary.LittleEndian, hdr)
	b.Write(info)
	b.Write(shstr)
	b.Write(make([]byte, shOff-uint64(b.Len())))
	sections := []elf.Section64{
		{},
		{Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC), Off: infoOff, Size: uint64(len(info)), Addralign: 1},
		{Name: 10, Type: uint32(elf.SHT_STRTAB), Off: shstrOff, Size: uint64(len(shstr)), Addralign: 1},
	}
	for _, s := range sections {
		binary.Write(&b, binary.LittleEndian, s)
	}
	return b.Bytes()
}

// Module describes one fake module file of a tree.
type Module struct {
	Path    string   // relative to the module directory, e.g. "kernel/drivers/a.ko.xz"
	Depends []string // written as depends=a,b into .modinfo
}

// WriteTree writes modules under dir (a module directory), compressing
// each according to its suffix (.ko, .ko.xz, .ko.gz), and fails the test
// on any error.
func WriteTree(t testing.TB, dir string, mods []Module) {
	t.Helper()
	for _, m := range mods {
		name := strings.TrimSuffix(filepath.Base(m.Path), filepath.Ext(m.Path))
		name = strings.TrimSuffix(name, ".ko")
		img := ModuleELF("license=GPL", "depends="+strings.Join(m.Depends, ","), "name="+name, "vermagic=6.1.0 SMP mod_unload")
		data, err := compress(img, m.Path)
		if err != nil {
			t.Fatalf("compress %s: %v", m.Path, err)
		}
		p := filepath.Join(dir, filepath.FromSlash(m.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func compress(img []byte, path string) ([]byte, error) {
	var b bytes.Buffer
	switch {
	case strings.HasSuffix(path, ".xz"):
		// The kernel's xz decoder wants CRC32 checks, like `xz --check=crc32`.
		w, err := xz.WriterConfig{CheckSum: xz.CRC32}.NewWriter(&b)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(img); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	case strings.HasSuffix(path, ".gz"):
		w := gzip.NewWriter(&b)
		w.Write(img)
		if err := w.Close(); err != nil {
			return nil, err
		}
	default:
		return img, nil
	}
	return b.Bytes(), nil
}
