package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
)

// evmTools builds the provisioning tools the EVM tests copy into the root
// (imaboot-seal, imaboot-relabel) into the test's temporary directory.
func evmTools(t testing.TB) fixture.Binaries {
	t.Helper()
	repo, err := fixture.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tools, err := fixture.Build(repo, t.TempDir(), "imaboot-seal", "imaboot-relabel")
	if err != nil {
		t.Fatal(err)
	}
	return tools
}

// lsmWithoutBPF is Debian 6.1's CONFIG_LSM without bpf. Seen on
// 6.1.0-56-cloud-amd64: once the EVM HMAC key is loaded, creating any file
// (the agent's status file on /run, tmpfs) oopses in
// evm_inode_init_security -> evm_protected_xattr_common -> strlen(NULL):
// the BPF LSM's default inode_init_security hook returns 0 without naming
// an xattr, and 6.1's EVM then reads the NULL name. Without the BPF LSM no
// hook claims the call and EVM is not reached. 6.12 is not affected.
const lsmWithoutBPF = "lsm=landlock,lockdown,yama,loadpin,safesetid,integrity,apparmor,selinux,smack,tomoyo"

// evmMachine is one "machine" rebooted several times: its root disk image
// and its swtpm state directory survive every boot, as disk and TPM do on
// real hardware (the PCRs reset at each boot).
type evmMachine struct {
	k        fixture.Kernel
	dir      string
	img      string // the root disk, vda
	tpmState string
	// append goes on every boot's kernel command line.
	append string
	// consoles holds every boot's console, for the master key grep.
	consoles []string
	initrds  []string
}

// evmBoot is one boot of an evmMachine.
type evmBoot struct {
	name    string // for file names and logs
	config  string // imaboot.conf; baseConfig is added unless policy is set
	policy  string // IMA policy text ("" = none)
	append  string // kernel command line after root=/dev/vda
	files   map[string]string
	withTPM bool
}

// newEVMMachine builds the root image: busybox, fixture.MarkerInit, the
// provisioning tools, the /test.sh the boots share (it picks its phase
// from evmtest= on the kernel command line) and, for each name in echoes,
// an unlabeled busybox copy at /opt/<name>/echo (busybox picks the applet
// from its name).
func newEVMMachine(t testing.TB, k fixture.Kernel, tools fixture.Binaries, testSh string, echoes ...string) *evmMachine {
	t.Helper()
	mc := &evmMachine{k: k, dir: t.TempDir()}
	if k.Short() == "6.1" {
		mc.append = lsmWithoutBPF
	}
	mc.img = filepath.Join(mc.dir, "root.img")
	mc.tpmState = filepath.Join(mc.dir, "tpm")
	if err := os.Mkdir(mc.tpmState, 0o700); err != nil {
		t.Fatal(err)
	}
	root := fixture.Root{
		UUID: rootUUID, Label: rootLabel, SizeMB: 96,
		Init: fixture.MarkerInit,
		Prepare: func(dir string) error {
			if err := os.WriteFile(filepath.Join(dir, "test.sh"), []byte(testSh), 0o755); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(dir, "etc/keys"), 0o755); err != nil {
				return err
			}
			for _, n := range []string{"imaboot-seal", "imaboot-relabel"} {
				copyFile(t, tools[n], filepath.Join(dir, "bin", n), 0o755)
			}
			for _, n := range echoes {
				copyFile(t, filepath.Join(dir, "bin/busybox"), filepath.Join(dir, "opt", n, "echo"), 0o755)
			}
			return nil
		},
	}
	if err := root.Build(filepath.Join(mc.dir, "rootdir"), mc.img); err != nil {
		t.Fatal(err)
	}
	return mc
}

// boot starts the machine on the shared disk (and TPM, when withTPM).
// The caller waits for the end of the boot (finish or stopHalted) before
// the next boot of the same machine.
func (mc *evmMachine) boot(t testing.TB, b evmBoot) *vm.Machine {
	t.Helper()
	dir := filepath.Join(mc.dir, b.name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for k, v := range b.files {
		files[k] = v
	}
	config := b.config
	if b.policy != "" {
		p := filepath.Join(dir, "ima-policy")
		if err := os.WriteFile(p, []byte(b.policy), 0o644); err != nil {
			t.Fatal(err)
		}
		files["/etc/imaboot/ima-policy"] = p
		config += "MIN_IMA_CERTS=0\n"
	} else {
		config += baseConfig
	}
	initrd := filepath.Join(dir, "initrd.img")
	spec := fixture.Initramfs{Modules: []string{"virtio_pci", "virtio_blk"}, Config: config, Files: files}
	if err := spec.Build(bins, mc.k, initrd); err != nil {
		t.Fatal(err)
	}
	mc.initrds = append(mc.initrds, initrd)
	opts := vm.Options{Kernel: mc.k.Vmlinuz, Initrd: initrd, Disks: []string{mc.img},
		Append: "quiet root=/dev/vda " + mc.append + " " + b.append}
	if b.withTPM {
		opts.TPMState = mc.tpmState
	}
	return vm.StartT(t, fmt.Sprintf("%q, %s", b.name, mc.k.Release), opts)
}

// finish waits for the root's init to power the machine off and keeps the
// console.
func (mc *evmMachine) finish(t testing.TB, m *vm.Machine) string {
	t.Helper()
	expect(t, m, `ROOTINIT-DONE`)
	if err := m.Wait(bootWait); err != nil {
		t.Fatal(err)
	}
	con := m.Console()
	mc.consoles = append(mc.consoles, con)
	return con
}

// stopHalted checks that enforce halted the boot before the switch with
// reason in the halt line, then stops QEMU (a halted guest does not exit).
func (mc *evmMachine) stopHalted(t testing.TB, m *vm.Machine, reason string) string {
	t.Helper()
	expect(t, m, `imaboot: error: enforce: .*; boot stopped before the switch`)
	expect(t, m, `System halted`)
	m.Stop()
	con := m.Console()
	mc.consoles = append(mc.consoles, con)
	if !strings.Contains(con, reason) {
		t.Errorf("halt line does not say %q", reason)
	}
	if strings.Contains(con, "ROOTINIT") {
		t.Error("the root's init ran after a failure in enforce mode")
	}
	return con
}

// replayJournal applies what the guest left in the ext4 journal (it powers
// off with "sync", which commits the journal but need not write the
// inodes home); debugfs reads and writes the image without replaying it,
// and a later mount's replay would undo an offline change.
func (mc *evmMachine) replayJournal(t testing.TB) {
	t.Helper()
	if b, err := exec.Command("e2fsck", "-y", "-E", "journal_only", mc.img).CombinedOutput(); err != nil {
		t.Fatalf("e2fsck -E journal_only: %v\n%s", err, b)
	}
}

// stat is debugfs's stat of a file in the image.
func (mc *evmMachine) stat(t testing.TB, path string) string {
	t.Helper()
	b, err := exec.Command("debugfs", "-R", "stat "+path, mc.img).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs stat %s: %v\n%s", path, err, b)
	}
	return string(b)
}

// dump copies a file out of the root image (debugfs, read-only).
func (mc *evmMachine) dump(t testing.TB, path, out string) {
	t.Helper()
	mc.replayJournal(t)
	b, err := exec.Command("debugfs", "-R", "dump "+path+" "+out, mc.img).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs dump %s: %v\n%s", path, err, b)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Fatalf("debugfs dump %s: nothing dumped (%v)\n%s", path, err, b)
	}
}

// setInodeField changes an inode's metadata offline (debugfs -w), as an
// attacker with the disk would.
func (mc *evmMachine) setInodeField(t testing.TB, path, field, value string) {
	t.Helper()
	mc.replayJournal(t)
	b, err := exec.Command("debugfs", "-w", "-R", "sif "+path+" "+field+" "+value, mc.img).CombinedOutput()
	if err != nil || strings.Contains(string(b), "sif:") {
		t.Fatalf("debugfs sif %s %s %s: %v\n%s", path, field, value, err, b)
	}
}
