// Package uefi builds what a Secure Boot VM test boots: OVMF's flash (the
// Secure Boot build, with Microsoft's keys enrolled), an EFI system
// partition holding Debian's signed shim, MokManager and grub with the
// kernel and the initramfs, and drives MokManager over the serial console
// to enroll a Machine Owner Key. Seen working with Debian 12's ovmf, shim
// 16.1 and grub 2.06, Debian's signed 6.1 and 6.12 cloud kernels.
//
// The boot chain: OVMF (Secure Boot on, db holding Microsoft's UEFI CA)
// runs \EFI\BOOT\BOOTX64.EFI, which is shim, signed by Microsoft; shim
// holds Debian's CA and runs grubx64.efi beside it (signed by Debian) and,
// when a MOK request is pending, mmx64.efi (MokManager); grub reads
// \EFI\debian\grub.cfg and has shim verify the kernel (signed by Debian)
// before it boots it. The initramfs is not verified by anyone.
package uefi

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Firmware is OVMF as Debian's ovmf package installs it.
type Firmware struct {
	// Code is the Secure Boot build (SMM-protected variable store).
	Code string
	// MSVars is a variable store with Microsoft's keys in db and KEK and
	// Secure Boot on: the state of a PC as it ships.
	MSVars string
}

// FindFirmware finds OVMF's 4 MiB Secure Boot build.
func FindFirmware() (Firmware, error) {
	f := Firmware{Code: "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", MSVars: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"}
	for _, p := range []string{f.Code, f.MSVars} {
		if _, err := os.Stat(p); err != nil {
			return f, fmt.Errorf("OVMF (install ovmf; scripts/setup-host does): %w", err)
		}
	}
	return f, nil
}

// Loaders are Debian's signed boot loaders, as scripts/fetch-secureboot
// leaves them in .cache/secureboot.
type Loaders struct {
	Shim, MokManager, Grub string
}

// FindLoaders finds the loaders under repo's cache (or $IMABOOT_CACHE).
func FindLoaders(repo string) (Loaders, error) {
	dir := filepath.Join(repo, ".cache", "secureboot")
	if c := os.Getenv("IMABOOT_CACHE"); c != "" {
		dir = filepath.Join(c, "secureboot")
	}
	l := Loaders{Shim: filepath.Join(dir, "shimx64.efi"), MokManager: filepath.Join(dir, "mmx64.efi"), Grub: filepath.Join(dir, "grubx64.efi")}
	for _, p := range []string{l.Shim, l.MokManager, l.Grub} {
		if _, err := os.Stat(p); err != nil {
			return l, fmt.Errorf("signed boot loaders not fetched (run scripts/setup-host): %w", err)
		}
	}
	return l, nil
}

// ESP describes an EFI system partition to build.
type ESP struct {
	Loaders Loaders
	Kernel  string // vmlinuz, copied to \vmlinuz
	Initrd  string // copied to \initrd.img
	Cmdline string // the kernel command line grub passes
}

// espOffset: the FAT file system starts 1 MiB into the image, behind an MBR
// with one partition of type EF (EFI system).
const espOffset = 1 << 20

// Build writes the ESP image at out with mtools (no root, no loop device):
// shim as \EFI\BOOT\BOOTX64.EFI (the path firmware boots when no boot entry
// says otherwise), MokManager and grub beside it (shim loads them from its
// own directory; fbx64.efi is left out, so shim does not try to create
// boot entries), grub's configuration where Debian's signed grub reads it.
func (e ESP) Build(out string) error {
	size := int64(espOffset)
	for _, p := range []string{e.Loaders.Shim, e.Loaders.MokManager, e.Loaders.Grub, e.Kernel, e.Initrd} {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("ESP: %w", err)
		}
		size += st.Size()
	}
	size += 8 << 20 // FAT tables and room
	size = (size + 1<<20 - 1) &^ (1<<20 - 1)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := run(strings.NewReader("start=2048, type=ef\n"), "sfdisk", "-q", out); err != nil {
		return err
	}
	img := fmt.Sprintf("%s@@%d", out, espOffset)
	if err := run(nil, "mformat", "-i", img, "-v", "ESP", "::"); err != nil {
		return err
	}
	if err := run(nil, "mmd", "-i", img, "::/EFI", "::/EFI/BOOT", "::/EFI/debian"); err != nil {
		return err
	}
	cfg := out + ".grub.cfg"
	if err := os.WriteFile(cfg, []byte(GrubConfig(e.Cmdline)), 0o644); err != nil {
		return err
	}
	defer os.Remove(cfg)
	for _, c := range [][2]string{
		{e.Loaders.Shim, "::/EFI/BOOT/BOOTX64.EFI"},
		{e.Loaders.MokManager, "::/EFI/BOOT/mmx64.efi"},
		{e.Loaders.Grub, "::/EFI/BOOT/grubx64.efi"},
		{cfg, "::/EFI/debian/grub.cfg"},
		{e.Kernel, "::/vmlinuz"},
		{e.Initrd, "::/initrd.img"},
	} {
		if err := run(nil, "mcopy", "-i", img, c[0], c[1]); err != nil {
			return err
		}
	}
	return nil
}

// GrubConfig boots \vmlinuz and \initrd.img of the ESP at once, with the
// serial console on.
func GrubConfig(cmdline string) string {
	return fmt.Sprintf("set timeout=0\nlinux /vmlinuz console=ttyS0 panic=-1 %s\ninitrd /initrd.img\nboot\n", cmdline)
}

// CopyVars makes a machine's own variable store from src (MSVars, or a
// store a MOK was enrolled in): each boot writes to its store.
func CopyVars(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func run(stdin io.Reader, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdin = stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
