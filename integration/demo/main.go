// Command demo boots Debian's 6.1 cloud kernel in QEMU with an initramfs
// built by imaboot-mkinitramfs, whose /init is imaboot-init, and shows the
// serial console as it comes: the agent mounts the root disk, loads the
// IMA certificate and the policy of profile strict (imaboot-policygen, the
// profile the docs recommend for appliances), and hands over to the root's
// /sbin/init, which runs a signed program (it runs), an unsigned copy of
// it and the same copy on tmpfs (the kernel refuses both). Run it with
// `make demo`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
	"github.com/imaboot/imaboot/policygen"
)

// demoInit raises printk's rate limit first: the kernel logs its audit
// records through it, and the policy load's own records use it up.
const demoInit = `echo 1000 > /proc/sys/kernel/printk_ratelimit_burst
echo
echo "=== the root's /sbin/init is running (PID $$) ==="
echo "imaboot status (/run/imaboot/status.json):"
cat /run/imaboot/status.json
echo
echo "=== a program signed with the release key:"
/opt/signed/echo "    it runs"
echo "=== an unsigned copy of the same program:"
/opt/unsigned/echo "    it runs (this must not happen)" || echo "    refused by the kernel (exit $?)"
echo "=== the unsigned copy on tmpfs (/tmp), where most policies do not look:"
mount -t tmpfs tmp /tmp && cp /opt/unsigned/echo /tmp/echo
/tmp/echo "    it runs (this must not happen)" || echo "    refused by the kernel (exit $?)"
echo "=== why, in the kernel's audit records:"
dmesg | grep 'cause=IMA-signature-required' | sed 's/.*\(op=[^ ]*\) \(cause=[^ ]*\).*\(name="[^"]*"\).*/    \1 \2 \3/'
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
	fmt.Println("demo: making a release signing key (RSA-2048) with openssl")
	key, err := fixture.NewSigningKey(dir, "release", "rsa")
	if err != nil {
		return err
	}
	text, err := strictPolicy(*k)
	if err != nil {
		return err
	}
	fmt.Println("demo: the IMA policy: imaboot-policygen generate --profile strict --kernel", k.Release)
	policy := filepath.Join(dir, "ima-policy")
	if err := os.WriteFile(policy, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Println("demo: building the initramfs with imaboot-mkinitramfs for", k.Release, "(certificate and policy inside)")
	initrd := filepath.Join(dir, "initrd.img")
	spec := fixture.Initramfs{
		Modules: []string{"virtio_pci", "virtio_blk"},
		Config:  "MODE=enforce\n",
		Files:   map[string]string{"/etc/keys/ima/release.der": key.CertDER, "/etc/imaboot/ima-policy": policy},
	}
	if err := spec.Build(bins, *k, initrd); err != nil {
		return err
	}
	fmt.Println("demo: building the ext4 root disk (busybox), signing its programs with evmctl")
	img := filepath.Join(dir, "root.img")
	root := fixture.Root{Label: "demoroot", Init: demoInit, Prepare: func(tree string) error {
		return signDemoTree(tree, key)
	}}
	if err := root.Build(filepath.Join(dir, "root"), img); err != nil {
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
	con := m.Console()
	if strings.Count(con, "refused by the kernel (exit 126)") != 2 || strings.Contains(con, "this must not happen") {
		return fmt.Errorf("an unsigned program was not refused: signatures were NOT enforced")
	}
	fmt.Println("demo: imaboot-init loaded the key and the policy, switched root, and the kernel")
	fmt.Println("demo: ran the signed program and refused the unsigned copies, on disk and on tmpfs")
	return nil
}

// strictPolicy is profile strict for k, with k's build configuration.
func strictPolicy(k fixture.Kernel) (string, error) {
	v, err := policygen.ParseKernelVersion(k.Release)
	if err != nil {
		return "", err
	}
	f, err := os.Open(filepath.Join(k.Root, "boot", "config-"+k.Release))
	if err != nil {
		return "", err
	}
	defer f.Close()
	cfg, err := policygen.ParseKernelConfig(f)
	if err != nil {
		return "", err
	}
	return policygen.Generate(policygen.GenerateOptions{Profile: "strict", Kernel: v, Config: cfg})
}

// signDemoTree signs busybox and the init script, and adds a signed and an
// unsigned copy of busybox (named echo: busybox picks its applet by name).
func signDemoTree(tree string, key fixture.SigningKey) error {
	bb, err := os.ReadFile(filepath.Join(tree, "bin/busybox"))
	if err != nil {
		return err
	}
	for _, d := range []string{"signed", "unsigned"} {
		if err := os.MkdirAll(filepath.Join(tree, "opt", d), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tree, "opt", d, "echo"), bb, 0o755); err != nil {
			return err
		}
	}
	for _, p := range []string{"bin/busybox", "sbin/init", "opt/signed/echo"} {
		if err := fixture.EVMSign(key, "sha256", filepath.Join(tree, p)); err != nil {
			return err
		}
	}
	return nil
}
