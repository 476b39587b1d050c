package uefi

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The ESP holds what the firmware, shim and grub look for, where they look.
func TestESPLayout(t *testing.T) {
	for _, tool := range []string{"mformat", "mcopy", "mdir", "sfdisk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (mtools, fdisk)", tool)
		}
	}
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	e := ESP{
		Loaders: Loaders{Shim: file("shim", "SHIM"), MokManager: file("mm", "MM"), Grub: file("grub", "GRUB")},
		Kernel:  file("vmlinuz", "KERNEL"),
		Initrd:  file("initrd", "INITRD"),
		Cmdline: "root=LABEL=x ima_appraise=log",
	}
	img := filepath.Join(dir, "esp.img")
	if err := e.Build(img); err != nil {
		t.Fatal(err)
	}
	at := img + "@@1048576"
	for path, want := range map[string]string{
		"::/EFI/BOOT/BOOTX64.EFI": "SHIM",
		"::/EFI/BOOT/mmx64.efi":   "MM",
		"::/EFI/BOOT/grubx64.efi": "GRUB",
		"::/vmlinuz":              "KERNEL",
		"::/initrd.img":           "INITRD",
		"::/EFI/debian/grub.cfg":  "linux /vmlinuz console=ttyS0 panic=-1 root=LABEL=x ima_appraise=log\ninitrd /initrd.img\nboot\n",
	} {
		out, err := exec.Command("mtype", "-i", at, path).Output()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%s: %q %v, want %q", path, out, err, want)
		}
	}
	// No fallback loader: shim would try to make boot entries with it.
	if out, _ := exec.Command("mdir", "-i", at, "-b", "::/EFI/BOOT").Output(); strings.Contains(strings.ToLower(string(out)), "fbx64") {
		t.Errorf("fbx64.efi on the ESP:\n%s", out)
	}
	// An MBR with one EFI system partition at 1 MiB.
	out, err := exec.Command("sfdisk", "-d", img).Output()
	if err != nil || !strings.Contains(string(out), "start=        2048") || !strings.Contains(string(out), "type=ef") {
		t.Errorf("partition table:\n%s %v", out, err)
	}
}
