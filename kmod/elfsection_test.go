package kmod

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/imaboot/imaboot/kmod/kmodtest"
)

// elfSection must find every section debug/elf finds, with the same bytes,
// in real kernel modules (when the test kernels are cached), in the fake
// modules kmodtest builds and in this test binary.
func TestElfSectionMatchesDebugElf(t *testing.T) {
	var files [][]byte
	files = append(files, kmodtest.ModuleELF("name=a", "depends=b,c"))
	if exe, err := os.Executable(); err == nil {
		if img, err := os.ReadFile(exe); err == nil {
			files = append(files, img)
		}
	}
	for _, pattern := range []string{
		"../.cache/kernels/bookworm/root/lib/modules/*/kernel/drivers/virtio/*.ko",
		"../.cache/kernels/trixie/root/usr/lib/modules/*/kernel/drivers/virtio/*.ko.xz",
	} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			img, err := ReadImage(p)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, img)
		}
	}
	if len(files) < 3 {
		t.Logf("only %d ELF files to compare (test kernels not cached?)", len(files))
	}
	for fi, img := range files {
		ef, err := elf.NewFile(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("file %d: debug/elf: %v", fi, err)
		}
		for _, sec := range ef.Sections {
			if sec.Name == "" || sec.Flags&elf.SHF_COMPRESSED != 0 {
				continue
			}
			want, err := sec.Data()
			if err != nil && sec.Type != elf.SHT_NOBITS {
				t.Fatalf("file %d section %s: debug/elf: %v", fi, sec.Name, err)
			}
			got, err := elfSection(img, sec.Name)
			if err != nil {
				t.Fatalf("file %d section %s: %v", fi, sec.Name, err)
			}
			if got == nil || !bytes.Equal(got, want) {
				t.Fatalf("file %d section %s: got %d bytes, debug/elf %d", fi, sec.Name, len(got), len(want))
			}
		}
		if got, err := elfSection(img, ".no-such-section"); got != nil || err != nil {
			t.Fatalf("file %d: missing section gave %d bytes, %v", fi, len(got), err)
		}
	}
}

// A damaged image gives an error (or no section), never a panic or bytes
// from outside the file.
func TestElfSectionTruncated(t *testing.T) {
	img := kmodtest.ModuleELF("name=a")
	for n := range len(img) {
		data, err := elfSection(img[:n], ".modinfo")
		if err == nil && data != nil {
			t.Fatalf("cut at %d of %d bytes: got a .modinfo of %d bytes", n, len(img), len(data))
		}
	}
	if _, err := elfSection([]byte("not an elf file at all"), ".modinfo"); err == nil {
		t.Fatal("garbage accepted")
	}
}
