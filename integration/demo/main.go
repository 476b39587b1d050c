// Command demo boots Debian's 6.1 cloud kernel in QEMU with an initramfs
// built by imaboot-mkinitramfs, whose /init is imaboot-init, and shows the
// serial console as it comes: the agent mounts the root disk, runs its
// steps and hands over to the root's /sbin/init. Run it with `make demo`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
)

const demoInit = `echo
echo "=== the root's /sbin/init is running (PID $$) ==="
echo "imaboot status (/run/imaboot/status.json):"
cat /run/imaboot/status.json
echo "DEMO-DONE"
poweroff -f
`

func main() {
	series := flag.String("kernel", "bookworm", "kernel series to boot: bookworm (6.1) or trixie (6.12)")
	keep := flag.Bool("keep", false, "keep the build directory (initramfs, root image)")
	flag.Parse()
	if err := run(*series, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(series string, keep bool) error {
	repo, err := fixture.RepoRoot()
	if err != nil {
		return err
	}
	ks, err := fixture.Kernels(repo)
	if err != nil {
		return err
	}
	var k *fixture.Kernel
	for i := range ks {
		if ks[i].Series == series {
			k = &ks[i]
		}
	}
	if k == nil {
		return fmt.Errorf("no kernel %q (bookworm or trixie)", series)
	}
	dir, err := os.MkdirTemp("", "imaboot-demo-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("demo: build directory", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fmt.Println("demo: building the binaries (CGO_ENABLED=0)")
	bins, err := fixture.Build(repo, filepath.Join(dir, "bin"), "imaboot-init", "imaboot-mkinitramfs")
	if err != nil {
		return err
	}
	fmt.Println("demo: building the initramfs with imaboot-mkinitramfs for", k.Release)
	initrd := filepath.Join(dir, "initrd.img")
	if err := (fixture.Initramfs{Modules: []string{"virtio_pci", "virtio_blk"}, Config: "MODE=enforce\n"}).Build(bins, *k, initrd); err != nil {
		return err
	}
	fmt.Println("demo: building the ext4 root disk (busybox)")
	img := filepath.Join(dir, "root.img")
	if err := (fixture.Root{Label: "demoroot", Init: demoInit}).Build(filepath.Join(dir, "root"), img); err != nil {
		return err
	}
	fmt.Println("demo: booting in QEMU (TCG); console follows")
	fmt.Println("----------------------------------------------------------------")
	m, err := vm.Start(vm.Options{Kernel: k.Vmlinuz, Initrd: initrd, Disks: []string{img},
		Append: "quiet root=LABEL=demoroot", Echo: os.Stdout})
	if err != nil {
		return err
	}
	defer m.Stop()
	if _, err := m.Expect(regexp.MustCompile(`DEMO-DONE`), 3*time.Minute); err != nil {
		return err
	}
	m.Wait(30 * time.Second)
	fmt.Println("----------------------------------------------------------------")
	fmt.Println("demo: the root's init ran after imaboot-init switched root")
	return nil
}
