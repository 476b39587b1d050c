package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/initagent"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
)

// baseConfig turns the integrity steps off for the foundation's tests.
const baseConfig = "IMA_POLICY=\nMIN_IMA_CERTS=0\n"

const (
	rootUUID  = "6f1c2a3e-0d4b-4e5f-9a8b-7c6d5e4f3a2b"
	rootLabel = "imaroot"
	bootWait  = 90 * time.Second // TCG on a busy 2-core machine
)

// scenario is one boot: what goes into the initramfs and the root, and the
// kernel command line.
type scenario struct {
	// config is imaboot.conf. Unless integrity is set, baseConfig is
	// appended (no policy, no certificate minimum) so that the foundation's
	// tests boot without keys.
	config    string
	integrity bool
	modules   []string
	append    string
	root      fixture.Root
	extra     [][]byte          // extra raw disks (vdb, ...)
	files     map[string]string // initramfs path -> host path
	dirs      map[string]string // initramfs path -> host directory
	ballast   int               // MiB of filler in the initramfs, to see the old root freed
	// broken: the initramfs is meant to stop the boot (a bad configuration
	// line, a refused policy): imaboot-mkinitramfs --no-check writes it.
	broken bool
}

// boot builds the scenario for kernel k and starts the machine.
func boot(t testing.TB, k fixture.Kernel, s scenario) *vm.Machine {
	t.Helper()
	dir := t.TempDir()
	if s.root.Init == "" {
		s.root.Init = fixture.MarkerInit
	}
	if s.root.UUID == "" {
		s.root.UUID, s.root.Label = rootUUID, rootLabel
	}
	img := filepath.Join(dir, "root.img")
	if err := s.root.Build(filepath.Join(dir, "root"), img); err != nil {
		t.Fatal(err)
	}
	if s.modules == nil {
		s.modules = []string{"virtio_pci", "virtio_blk"}
	}
	files := map[string]string{}
	for k, v := range s.files {
		files[k] = v
	}
	if s.ballast > 0 {
		p := filepath.Join(dir, "ballast")
		if err := os.WriteFile(p, make([]byte, s.ballast<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		files["/ballast"] = p
	}
	initrd := filepath.Join(dir, "initrd.img")
	config := s.config
	if !s.integrity {
		config += baseConfig
	}
	spec := fixture.Initramfs{Modules: s.modules, Config: config, Files: files, Dirs: s.dirs}
	if s.broken {
		spec.Args = append(spec.Args, "--no-check")
	}
	if err := spec.Build(bins, k, initrd); err != nil {
		t.Fatal(err)
	}
	disks := []string{img}
	for i, raw := range s.extra {
		p := filepath.Join(dir, "disk"+strconv.Itoa(i+1)+".img")
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, p)
	}
	return vm.StartT(t, k.Release, vm.Options{Kernel: k.Vmlinuz, Initrd: initrd, Disks: disks, Append: "quiet " + s.append})
}

func expect(t testing.TB, m *vm.Machine, re string) []string {
	t.Helper()
	return m.MustExpect(t, re, bootWait)
}

// status extracts the agent's status file as the root's init printed it.
func status(t testing.TB, m *vm.Machine) initagent.Status {
	t.Helper()
	return fixture.Status(t, m, bootWait)
}

func forEachKernel(t *testing.T, f func(t *testing.T, k fixture.Kernel)) {
	for _, k := range kernels {
		k := k
		t.Run(k.Short(), func(t *testing.T) {
			t.Parallel()
			f(t, k)
		})
	}
}

// TestBootSwitchesRoot: the root is found by /dev/vda, UUID= and LABEL=;
// the root's init is PID 1 with its arguments and PATH, inherits /dev,
// /proc, /sys, /run, and the initramfs's files are gone (a 64 MiB ballast
// file no longer holds ramfs memory).
func TestBootSwitchesRoot(t *testing.T) {
	for name, root := range map[string]string{"dev": "/dev/vda", "UUID": "UUID=" + rootUUID, "LABEL": "LABEL=" + rootLabel} {
		root := root
		t.Run(name, func(t *testing.T) {
			forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
				m := boot(t, k, scenario{append: "root=" + root + " -- firstarg second", ballast: 64})
				sm := expect(t, m, `ROOTINIT: pid=(\d+) args=(.*) path=(\S*)\n`)
				if sm[1] != "1" || sm[2] != "firstarg second" || !strings.Contains(sm[3], "/sbin") {
					t.Errorf("root init saw pid=%s args=%q path=%q", sm[1], sm[2], sm[3])
				}
				expect(t, m, `ROOTINIT-DONE`)
				con := m.Console()
				for _, mnt := range []string{"/dev", "/proc", "/sys", "/run", "/sys/kernel/security"} {
					if !strings.Contains(con, "ROOTINIT-MOUNT: "+mnt+"\n") {
						t.Errorf("%s not mounted in the new root", mnt)
					}
				}
				mem := expect(t, m, `ROOTINIT-MEM: Unevictable:\s+(\d+) kB`)
				if kb, _ := strconv.Atoi(mem[1]); kb > 16<<10 {
					t.Errorf("Unevictable %s kB after the switch: the initramfs (64 MiB ballast) was not freed", mem[1])
				}
				expect(t, m, `ROOTINIT-ROOTMOUNT: /dev/vda / ext4 ro[,\s]`)
				st := status(t, m)
				if st.Outcome != "switching" || st.Mode != initagent.Enforce || st.RootMountedMS <= 0 {
					t.Errorf("status %+v", st)
				}
				for _, s := range st.Steps {
					if s.Result != initagent.ResultOK && s.Result != initagent.ResultSkipped {
						t.Errorf("step %s: %s %s", s.Name, s.Result, s.Detail)
					}
				}
				if !strings.Contains(con, "imaboot: mount-root: /dev/vda (ext4, ro) on /newroot") {
					t.Error("mount-root line missing")
				}
			})
		})
	}
}

// TestBootRootOptions: init=, rw, rootfstype= and rootflags= reach the
// mount and the exec.
func TestBootRootOptions(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		s := scenario{append: "root=LABEL=" + rootLabel + " rw rootfstype=ext4 rootflags=commit=7 init=/sbin/altinit"}
		s.root.Prepare = func(dir string) error {
			return os.Symlink("init", filepath.Join(dir, "sbin/altinit"))
		}
		m := boot(t, k, s)
		expect(t, m, `ROOTINIT-DONE`)
		expect(t, m, `imaboot: mount-root: /dev/vda \(ext4, rw\) on /newroot`)
		expect(t, m, `ROOTINIT-ROOTMOUNT: /dev/vda / ext4 rw,.*commit=7`)
		expect(t, m, `ROOTINIT-EXE: /sbin/altinit\n`)
	})
}

// stepDone reports whether the status file records the step as ok.
func stepDone(st initagent.Status, name string) bool {
	for _, s := range st.Steps {
		if s.Name == name {
			return s.Result == initagent.ResultOK
		}
	}
	return false
}
