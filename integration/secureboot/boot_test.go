package secureboot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imaboot/imaboot/initagent"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/uefi"
	"github.com/imaboot/imaboot/integration/vm"
)

// bootWait covers firmware, shim, grub and the kernel under TCG on a busy
// 2-core machine (about 15-30 s a boot here).
const bootWait = 4 * time.Minute

// sbBoot is one Secure Boot boot.
type sbBoot struct {
	kernel fixture.Kernel
	// vars is the variable store copied for this boot: firmware.MSVars (no
	// MOK) or enrolledVars.
	vars    string
	config  string            // imaboot.conf
	files   map[string]string // initramfs path -> host path
	cmdline string            // after root=LABEL=imaroot
	root    fixture.Root
}

// built is a boot's disks and variable store.
type built struct{ root, esp, vars string }

// build makes, in dir, the root, the initramfs (efivarfs among its
// modules, for the tools that read EFI variables), the ESP, and the boot's
// own copy of the variable store.
func build(dir string, s sbBoot) (built, error) {
	b := built{root: filepath.Join(dir, "root.img"), esp: filepath.Join(dir, "esp.img"), vars: filepath.Join(dir, "vars.fd")}
	if s.root.Init == "" {
		s.root.Init = fixture.MarkerInit
	}
	s.root.UUID, s.root.Label = "5ec0b007-0d4b-4e5f-9a8b-7c6d5e4f3a2b", "imaroot"
	if err := s.root.Build(filepath.Join(dir, "root"), b.root); err != nil {
		return b, err
	}
	initrd := filepath.Join(dir, "initrd.img")
	spec := fixture.Initramfs{Modules: []string{"virtio_pci", "virtio_blk", "efivarfs"}, Config: s.config, Files: s.files}
	if err := spec.Build(bins, s.kernel, initrd); err != nil {
		return b, err
	}
	esp := uefi.ESP{Loaders: loaders, Kernel: s.kernel.Vmlinuz, Initrd: initrd, Cmdline: "quiet root=LABEL=imaroot " + s.cmdline}
	if err := esp.Build(b.esp); err != nil {
		return b, err
	}
	return b, uefi.CopyVars(s.vars, b.vars)
}

func (b built) options() vm.Options {
	return vm.Options{Disks: []string{b.root}, UEFI: &vm.UEFI{Code: firmware.Code, Vars: b.vars, ESP: b.esp, SecureBoot: true}}
}

// machine is a started boot and when it started (the images are built
// before), for the boot times the tests log.
type machine struct {
	*vm.Machine
	started time.Time
}

// logTime logs how long the machine took from power on to what.
func (m machine) logTime(t testing.TB, what string) {
	t.Helper()
	t.Logf("Secure Boot: power on to %s in %v", what, time.Since(m.started).Round(100*time.Millisecond))
}

// boot builds s and starts the machine for the test.
func boot(t testing.TB, s sbBoot) machine {
	t.Helper()
	b, err := build(t.TempDir(), s)
	if err != nil {
		t.Fatal(err)
	}
	return machine{vm.StartT(t, s.kernel.Release+" (Secure Boot)", b.options()), time.Now()}
}

func expect(t testing.TB, m machine, re string) []string {
	t.Helper()
	return m.MustExpect(t, re, bootWait)
}

// status is the agent's status file as the root's init printed it.
func status(t testing.TB, m machine) initagent.Status {
	t.Helper()
	return fixture.Status(t, m.Machine, bootWait)
}

func forEachKernel(t *testing.T, f func(t *testing.T, k fixture.Kernel)) {
	for _, k := range kernels {
		t.Run(k.Short(), func(t *testing.T) {
			t.Parallel()
			f(t, k)
		})
	}
}

// withPrograms copies dynamically linked programs and the libraries ldd
// names into a root tree, and labels the programs with sign (nil: not).
func withPrograms(dir string, sign func(path string) error, progs ...string) error {
	for _, p := range progs {
		out, err := exec.Command("ldd", p).Output()
		if err != nil {
			// Static (imaboot-ca): ldd says "not a dynamic executable".
			out = nil
		}
		files := []string{p}
		for _, f := range strings.Fields(string(out)) {
			if strings.HasPrefix(f, "/") {
				files = append(files, f)
			}
		}
		for _, f := range files {
			real, err := filepath.EvalSymlinks(f)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(real)
			if err != nil {
				return err
			}
			dst := filepath.Join(dir, f)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(dst, data, 0o755); err != nil {
				return err
			}
		}
		if sign != nil {
			if err := sign(filepath.Join(dir, p)); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// mokPassword is the one-time password of the MOK request.
const mokPassword = "imaboot-mok"

// importScript runs in the first enrollment boot: what imaboot-ca enroll
// prints as step 1 (mokutil --import), the password from a hash file
// instead of the keyboard.
const importScript = `#!/bin/sh
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
echo "SBSTATE=$(mokutil --sb-state)"
mokutil --generate-hash=` + mokPassword + ` > /run/mok.hash
mokutil --import /owner-ca.der --hash-file /run/mok.hash && echo MOK-IMPORTED
mokutil --list-new | grep -q 'imaboot test owner CA' && echo MOK-PENDING
`

var enrolled struct {
	sync.Once
	dir, vars string
	err       error
	// took: the whole enrollment, images included; importBoot and
	// mokManager: the two boots, power on to power off.
	took, importBoot, mokManager time.Duration
}

// enrolledVars enrolls the owner's CA once per run and returns a variable
// store holding it in MokList, to be copied for each boot. Tests that need
// it call it first; the first runs the two boots, the others wait.
func enrolledVars(t *testing.T) string {
	t.Helper()
	enrolled.Do(func() {
		t0 := time.Now()
		enrolled.vars, enrolled.err = enroll()
		enrolled.took = time.Since(t0)
	})
	if enrolled.err != nil {
		t.Fatalf("enrolling the owner's CA: %v", enrolled.err)
	}
	t.Logf("owner's CA enrolled once per run, in %v (import boot %v, MokManager %v)", enrolled.took.Round(time.Second),
		enrolled.importBoot.Round(100*time.Millisecond), enrolled.mokManager.Round(100*time.Millisecond))
	return enrolled.vars
}

// enroll runs the import boot, then the MokManager boot, on one machine
// (one variable store, kept outside any test's directory). An error holds
// the console of the boot that failed.
func enroll() (string, error) {
	dir, err := os.MkdirTemp("", "imaboot-mok-")
	if err != nil {
		return "", err
	}
	enrolled.dir = dir
	b, err := build(dir, sbBoot{
		kernel: kernels[0],
		vars:   firmware.MSVars,
		config: "MODE=enforce\nHALT=poweroff\nIMA_POLICY=\nMIN_IMA_CERTS=0\n",
		root: fixture.Root{
			Files: map[string]string{"/test.sh": importScript},
			Prepare: func(d string) error {
				if err := copyFile(pki.ca.CertDER, filepath.Join(d, "owner-ca.der")); err != nil {
					return err
				}
				return withPrograms(d, nil, "/usr/bin/mokutil")
			},
		},
	})
	if err != nil {
		return "", err
	}
	m, err := vm.Start(b.options())
	if err != nil {
		return "", err
	}
	t0 := time.Now()
	_, err = m.Expect(regexp.MustCompile(`MOK-PENDING`), bootWait)
	if err == nil {
		err = m.Wait(bootWait)
	}
	m.Stop()
	if err != nil {
		return "", fmt.Errorf("import boot: %w\n%s", err, m.Console())
	}
	enrolled.importBoot = time.Since(t0)
	m, err = vm.Start(b.options())
	if err != nil {
		return "", err
	}
	defer m.Stop()
	t0 = time.Now()
	if err := uefi.EnrollMOK(m, mokPassword, bootWait); err != nil {
		return "", fmt.Errorf("%w\n%s", err, m.Console())
	}
	enrolled.mokManager = time.Since(t0)
	return b.vars, nil
}
