package distro

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/initagent"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
	"github.com/imaboot/imaboot/keyload/tpm/swtpm"
)

const (
	rootLabel = "distroroot"
	checkInit = "/usr/local/sbin/imaboot-check"
	// bootWait is generous: a Debian initramfs under TCG on a busy 2-core
	// machine takes a minute or more to reach the root.
	bootWait = 8 * time.Minute
)

// policy requires a signature on every execution outside the pseudo file
// systems (systemd's cgroup2, configfs and binfmt_misc too).
const policy = fixture.PseudoFSExclusions + `dont_appraise fsmagic=0x63677270
dont_appraise fsmagic=0x62656570
dont_appraise fsmagic=0x42494e4d
dont_appraise fsmagic=0x27e0eb
measure func=BPRM_CHECK
appraise func=BPRM_CHECK appraise_type=imasig
`

// badPolicy has a rule no kernel takes.
const badPolicy = policy + "appraise func=BPRM_CHECK appraise_type=imasig no_such_option=1\n"

// checkScript runs under the root's real init (systemd, /sbin/init), as
// the only job of checkTarget: it prints the marker lines the test checks
// and powers off.
const checkScript = `#!/bin/sh
echo "ROOTINIT: pid=$$ init=$(cat /proc/1/comm)"
echo ROOTINIT-STATUS-BEGIN
cat /run/imaboot/status.json
echo
echo ROOTINIT-STATUS-END
echo "ROOTINIT-EVM=$(cat /sys/kernel/security/evm)"
/usr/local/bin/unsigned-true
echo "RC-unsigned=$?"
/bin/true
echo "RC-signed=$?"
# the unsigned copy from tmpfs (closed by profile strict)
cp /usr/local/bin/unsigned-true /run/unsigned-true && /run/unsigned-true
echo "RC-tmpfs-run=$?"
cp /usr/local/bin/unsigned-true /dev/shm/unsigned-true && /dev/shm/unsigned-true
echo "RC-tmpfs-shm=$?"
echo ROOTINIT-DONE
busybox poweroff -f
`

// checkTarget is what systemd boots (systemd.unit=): the check service
// only, so a boot takes seconds, not a full multi-user start.
const (
	checkTarget     = "imaboot-check.target"
	checkTargetUnit = `[Unit]
Description=imaboot distro test
Requires=imaboot-check.service
After=imaboot-check.service
AllowIsolate=yes
`
	checkServiceUnit = `[Unit]
Description=imaboot distro test checks
DefaultDependencies=no
After=local-fs.target

[Service]
Type=oneshot
ExecStart=` + checkInit + `
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
`
)

// tree is a prepared root: imaboot installed and configured, initramfs
// images built by the generator, every file signed, made into an image.
type tree struct {
	dir     string
	kver    string
	image   string
	initrds map[string]string // name -> host path
	// tpmState is the swtpm state the EVM master key was sealed in ("" when
	// the tree has no EVM key); each boot gets a copy.
	tpmState string
	// key signs the tree (its certificate is in /etc/keys/ima).
	key fixture.SigningKey
	// profile is the imaboot-policygen profile of the tree's policy ("" when
	// it is a fixed policy).
	profile string
}

// options of a prepared tree.
type options struct {
	// evm seals an EVM master key in a swtpm on the host (imaboot-seal
	// init), puts the blobs and an EVM certificate into /etc/keys for the
	// generator to copy, sets MASTER_KEY_TYPE=tpm and adds portable EVM
	// signatures to the labels (once the HMAC key is loaded, a file with an
	// IMA signature and no security.evm fails appraisal).
	evm bool
	// policy replaces the default policy; profile, when set, replaces it
	// with imaboot-policygen's output for the tree's kernel and its
	// configuration; check replaces checkScript.
	policy, profile, check string
	// setup runs on the host after imaboot is installed and configured,
	// before the generators and the labeling.
	setup func(t *testing.T, tr *tree)
	// label replaces the default labeling (every file signed).
	label func(t *testing.T, tr *tree)
}

// prepare copies the cached root, installs imaboot with scripts/install,
// configures it, runs the generator (gen: a command per initramfs, run in
// the chroot) and signs the tree.
func prepare(t *testing.T, cachedRoot string, opts options, gens map[string][]string) tree {
	t.Helper()
	bins := binaries(t)
	t0 := time.Now()
	tr := tree{dir: workCopy(t, cachedRoot), initrds: map[string]string{}}
	tr.kver = kernelRelease(t, tr.dir)
	t.Logf("copied the cached root in %v", time.Since(t0).Round(time.Second))

	runLogged(t, filepath.Join(repo, "scripts/install"), "DESTDIR="+tr.dir, "PREFIX=/usr", "BIN="+bins)
	var err error
	if tr.key, err = fixture.NewSigningKey(t.TempDir(), "distro-test", "rsa"); err != nil {
		t.Fatal(err)
	}
	key, certPEM := tr.key.Key, tr.key.CertPEM
	der, err := os.ReadFile(tr.key.CertDER)
	if err != nil {
		t.Fatal(err)
	}
	write(t, tr.dir, "/etc/keys/ima/distro-test.der", string(der), 0o644)
	pol, check := policy, checkScript
	if opts.policy != "" {
		pol = opts.policy
	}
	if opts.profile != "" {
		tr.profile = opts.profile
		pol = runLogged(t, filepath.Join(bins, "imaboot-policygen"), "generate", "--profile", opts.profile,
			"--kernel", tr.kver, "--kernel-config", filepath.Join(tr.dir, "boot", "config-"+tr.kver))
	}
	if opts.check != "" {
		check = opts.check
	}
	write(t, tr.dir, "/etc/imaboot/ima-policy", pol, 0o644)
	conf := "# imaboot in the distro VM test\nMODE=enforce\n"
	if opts.evm {
		write(t, tr.dir, "/etc/keys/evm/distro-test.der", string(der), 0o644)
		tr.tpmState = sealEVMKey(t, bins, tr.dir)
		conf += "MASTER_KEY_TYPE=tpm\n"
	}
	write(t, tr.dir, "/etc/imaboot/imaboot.conf", conf, 0o644)
	write(t, tr.dir, checkInit, check, 0o755)
	write(t, tr.dir, "/etc/systemd/system/"+checkTarget, checkTargetUnit, 0o644)
	write(t, tr.dir, "/etc/systemd/system/imaboot-check.service", checkServiceUnit, 0o644)

	if opts.setup != nil {
		opts.setup(t, &tr)
	}
	for name, args := range gens {
		t1 := time.Now()
		inChroot(t, tr.dir, args...)
		p := filepath.Join(tr.dir, "boot", "initrd-"+name+".img")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s did not write %s: %v", strings.Join(args, " "), p, err)
		}
		tr.initrds[name] = p
		t.Logf("%s: %s in %v", name, strings.Join(args, " "), time.Since(t1).Round(time.Second))
	}

	t1 := time.Now()
	if opts.label != nil {
		opts.label(t, &tr)
	} else {
		relabel := []string{"--sign", "--key", key, "--cert", certPEM, "--root", tr.dir, "--progress", "never"}
		if opts.evm {
			relabel = append(relabel, "--evm", "portable")
		}
		runLogged(t, filepath.Join(bins, "imaboot-relabel"), append(relabel, tr.dir)...)
	}
	t.Logf("labeled the tree in %v", time.Since(t1).Round(time.Second))
	// A copy made after labeling: a new file without security.ima.
	unsigned := filepath.Join(tr.dir, "usr/local/bin/unsigned-true")
	os.Remove(unsigned)
	runLogged(t, "cp", filepath.Join(tr.dir, "bin/true"), unsigned)
	if out, _ := exec.Command("getfattr", "-n", "security.ima", unsigned).CombinedOutput(); strings.Contains(string(out), "security.ima=") {
		t.Fatalf("%s carries a label", unsigned)
	}

	t1 = time.Now()
	size := duMB(t, tr.dir)*13/10 + 200
	tr.image = filepath.Join(t.TempDir(), "root.img")
	runLogged(t, "mkfs.ext4", "-q", "-F", "-d", tr.dir, "-L", rootLabel, tr.image, fmt.Sprintf("%dM", size))
	t.Logf("mkfs.ext4 -d (%d MB) in %v", size, time.Since(t1).Round(time.Second))
	return tr
}

func write(t testing.TB, root, path, content string, mode os.FileMode) {
	t.Helper()
	full := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(full, mode); err != nil {
		t.Fatal(err)
	}
}

func duMB(t testing.TB, dir string) int {
	t.Helper()
	out := runLogged(t, "du", "-sm", dir)
	n, err := strconv.Atoi(strings.Fields(out)[0])
	if err != nil {
		t.Fatalf("du: %q", out)
	}
	return n
}

// withPolicy is initrd with one more cpio archive appended holding
// /etc/imaboot/ima-policy: the kernel unpacks the archives in order, so the
// file replaces the generator's copy without building the initramfs again.
func withPolicy(t testing.TB, initrd, text string) string {
	return withFiles(t, initrd, map[string]string{"etc/imaboot/ima-policy": text})
}

// withFiles is initrd with one more cpio archive appended holding files
// (relative path -> contents, mode 0644).
func withFiles(t testing.TB, initrd string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var list strings.Builder
	seen := map[string]bool{}
	for p, text := range files {
		write(t, filepath.Join(dir, "x"), p, text, 0o644)
		parts := strings.Split(p, "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/")
			if !seen[d] {
				seen[d] = true
				list.WriteString(d + "\n")
			}
		}
		list.WriteString(p + "\n")
	}
	cmd := exec.Command("cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0")
	cmd.Dir = filepath.Join(dir, "x")
	cmd.Stdin = strings.NewReader(list.String())
	extra, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio: %v", err)
	}
	base, err := os.ReadFile(initrd)
	if err != nil {
		t.Fatal(err)
	}
	// Archives start on a 4-byte boundary.
	for len(base)%4 != 0 {
		base = append(base, 0)
	}
	out := filepath.Join(dir, "initrd.img")
	if err := os.WriteFile(out, append(base, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// boot starts the tree's kernel with initrd on a copy of the tree's image.
func boot(t *testing.T, tr tree, initrd, extraArgs string) *vm.Machine {
	t.Helper()
	return bootDisk(t, tr, diskCopy(t, tr), initrd, extraArgs)
}

// diskCopy is a fresh copy of the tree's image, for one or more boots.
func diskCopy(t *testing.T, tr tree) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "root.img")
	runLogged(t, "cp", "--sparse=always", tr.image, img)
	return img
}

// bootDisk starts the tree's kernel with initrd on the disk image img
// (booting the same img again is booting the same machine again).
func bootDisk(t *testing.T, tr tree, img, initrd, extraArgs string) *vm.Machine {
	t.Helper()
	opts := vm.Options{
		Kernel: filepath.Join(tr.dir, "boot", "vmlinuz-"+tr.kver),
		Initrd: initrd,
		Disks:  []string{img},
		Memory: 1024,
		// no_timer_check: on a loaded host TCG's timer can miss the
		// kernel's IO-APIC check, which then panics at 0 s (seen).
		Append: "root=LABEL=" + rootLabel + " ro systemd.unit=" + checkTarget + " rd.shell=0 quiet no_timer_check " + extraArgs,
	}
	if tr.tpmState != "" {
		// The 6.1 kernel with the bpf LSM crashes once the EVM HMAC key is
		// in use; the agent refuses it there, so the EVM boots leave bpf out.
		opts.Append += " " + lsmWithoutBPF
		// The same "machine" (TPM seeds) for every boot, one swtpm each.
		opts.TPMState = filepath.Join(t.TempDir(), "tpm")
		runLogged(t, "cp", "-a", tr.tpmState, opts.TPMState)
	}
	m, err := vm.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() {
			t.Logf("console of the failed boot:\n%s", m.Console())
		}
	})
	return m
}

func expect(t testing.TB, m *vm.Machine, re string) []string {
	t.Helper()
	sm, err := m.Expect(regexp.MustCompile(re), bootWait)
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

func status(t testing.TB, m *vm.Machine) initagent.Status {
	t.Helper()
	sm := expect(t, m, `(?s)ROOTINIT-STATUS-BEGIN\n(.*?)\n+ROOTINIT-STATUS-END`)
	var st initagent.Status
	if err := json.Unmarshal([]byte(sm[1]), &st); err != nil {
		t.Fatalf("status.json: %v\n%s", err, sm[1])
	}
	return st
}

func stepResult(st initagent.Status, name string) string {
	for _, s := range st.Steps {
		if s.Name == name {
			return s.Result
		}
	}
	return "absent"
}

// generatorCase is one generator's boot path.
type generatorCase struct {
	initrd  string
	newRoot string // where the generator mounted the root
	// stopped matches the generator's own reaction to the hook's failure.
	stopped string
	// exits: after stopped, the machine goes off by itself (a kernel panic
	// or a reboot, with QEMU's -no-reboot); else it halts and stays.
	exits bool
}

// checkGenerator boots the three scenarios of one generator in turn:
//   - enforce, good policy: the root's init (systemd) starts and runs the
//     check service, the status file
//     says every step was done, an unsigned copy of /bin/true is refused
//     (126) while the signed /bin/true runs; with profile strict (the
//     generator's init runs its own programs after the hook, from the
//     initramfs, and systemd maps signed libraries) copies of it in /run
//     and /dev/shm are refused too;
//   - enforce, a policy with an invalid rule: the agent's one-line reason is
//     on the console, the generator stops the boot, the root's init never
//     runs;
//   - permissive (imaboot.mode=permissive), the same policy: a warning, the
//     boot goes on with no policy (the unsigned file runs).
func checkGenerator(t *testing.T, tr tree, g generatorCase) {
	t.Run("enforce", func(t *testing.T) {
		t0 := time.Now()
		m := boot(t, tr, g.initrd, "")
		expect(t, m, `imaboot: ima-policy: IMA policy loaded, \d+ rules`)
		expect(t, m, `imaboot: ready: `+regexp.QuoteMeta(g.newRoot)+` may switch to /sbin/init`)
		expect(t, m, `ROOTINIT: pid=\d+ init=systemd\n`)
		st := status(t, m)
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		if st.Outcome != "done" || st.Mode != initagent.Enforce {
			t.Errorf("status: outcome %q mode %q, want done enforce", st.Outcome, st.Mode)
		}
		for _, s := range st.Steps {
			if s.Result != initagent.ResultOK && s.Result != initagent.ResultSkipped {
				t.Errorf("step %s: %s %s", s.Name, s.Result, s.Detail)
			}
		}
		want := []string{"check-root", "ima-certificates", "ima-policy"}
		if tr.tpmState != "" {
			want = append(want, "evm-certificates", "master-key", "evm-key", "enable-evm")
		}
		for _, step := range want {
			if r := stepResult(st, step); r != initagent.ResultOK {
				t.Errorf("step %s: %s, want ok", step, r)
			}
		}
		evm := expect(t, m, `ROOTINIT-EVM=(\d+)\n`)
		if n, _ := strconv.Atoi(evm[1]); (n&1 != 0) != (tr.tpmState != "") {
			t.Errorf("/sys/kernel/security/evm = %s after the switch; HMAC key expected: %v", evm[1], tr.tpmState != "")
		}
		if !strings.Contains(con, "RC-unsigned=126\n") {
			t.Error("the unsigned copy of /bin/true was not refused with 126")
		}
		if !strings.Contains(con, "RC-signed=0\n") {
			t.Error("the signed /bin/true did not run")
		}
		if tr.profile == "strict" {
			for _, where := range []string{"run", "shm"} {
				if !strings.Contains(con, "RC-tmpfs-"+where+"=126\n") {
					t.Errorf("profile strict: the unsigned copy of /bin/true on tmpfs (tmpfs-%s) was not refused with 126", where)
				}
			}
			if strings.Contains(con, "imaboot: warning") {
				t.Error("profile strict: the boot warned")
			}
		}
		t.Logf("boot to ROOTINIT-DONE in %v", time.Since(t0).Round(time.Second))
	})
	bad := withPolicy(t, g.initrd, badPolicy)
	t.Run("enforce-invalid-rule", func(t *testing.T) {
		t0 := time.Now()
		m := boot(t, tr, bad, "")
		sm := expect(t, m, `imaboot: error: (enforce: [^\n]*ima-policy[^\n]*)\n`)
		if !strings.Contains(sm[1], "no_such_option") {
			t.Errorf("the reason does not name the bad rule: %s", sm[1])
		}
		expect(t, m, g.stopped)
		if g.exits {
			if err := m.Wait(bootWait); err != nil {
				t.Error(err)
			}
		}
		if strings.Contains(m.Console(), "ROOTINIT") {
			t.Error("the root's init ran after the hook failed in enforce mode")
		}
		t.Logf("stopped in %v", time.Since(t0).Round(time.Second))
	})
	t.Run("permissive-invalid-rule", func(t *testing.T) {
		m := boot(t, tr, bad, "imaboot.mode=permissive")
		expect(t, m, `imaboot: warning: permissive: step ima-policy failed, continuing: [^\n]*no_such_option`)
		expect(t, m, `ROOTINIT: pid=\d+ init=systemd\n`)
		st := status(t, m)
		expect(t, m, `ROOTINIT-DONE`)
		if st.Outcome != "done" || st.Mode != initagent.Permissive || stepResult(st, "ima-policy") != initagent.ResultWarned {
			t.Errorf("status: outcome %q mode %q ima-policy %q, want done permissive warned", st.Outcome, st.Mode, stepResult(st, "ima-policy"))
		}
		if !strings.Contains(m.Console(), "RC-unsigned=0\n") {
			t.Error("no policy loaded, yet the unsigned file did not run")
		}
	})
}

// TestDracut: the dracut module in dracut's shell init (pre-pivot hook) and
// in dracut's systemd initramfs (imaboot.service), one tree, two images
// built by the real dracut, with profile strict. The EVM master key is
// sealed in a swtpm and unsealed by the agent through the dracut hook, the
// EVM key loaded and EVM enabled; the root carries portable EVM signatures.
func TestDracut(t *testing.T) {
	t.Parallel()
	root := dracutRoot(t)
	kver := kernelRelease(t, root)
	tr := prepare(t, root, options{evm: true, profile: "strict"}, map[string][]string{
		"shell":   {"dracut", "--force", "--no-compress", "--omit", "systemd", "--kver", kver, "/boot/initrd-shell.img"},
		"systemd": {"dracut", "--force", "--no-compress", "--kver", kver, "/boot/initrd-systemd.img"},
	})
	t.Run("refuses-integrity-module", func(t *testing.T) {
		// dracut's own integrity module beside imaboot: dracut stops with
		// the module's message instead of building an initramfs that loads
		// two policies.
		cmd := exec.Command(chrootScript(), "run", tr.dir, "dracut", "--force", "--no-compress",
			"--add", "integrity", "--kver", kver, "/tmp/initrd-both.img")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("dracut --add integrity succeeded beside imaboot:\n%s", tail(string(out), 2000))
		}
		if !strings.Contains(string(out), `imaboot: dracut's "integrity" module is included too`) {
			t.Errorf("dracut's output lacks imaboot's refusal:\n%s", tail(string(out), 2000))
		}
		if _, err := os.Stat(filepath.Join(tr.dir, "tmp/initrd-both.img")); err == nil {
			t.Error("dracut wrote the initramfs anyway")
		}
	})
	t.Run("unconfigured-adds-nothing", func(t *testing.T) {
		unconfiguredAddsNothing(t, tr, "dracut", "--force", "--no-compress", "--kver", kver, "/tmp/noconf.img")
	})
	t.Run("shell", func(t *testing.T) {
		t.Parallel()
		checkGenerator(t, tr, generatorCase{
			initrd:  tr.initrds["shell"],
			newRoot: "/sysroot",
			// die: exit 1 from /init, the kernel panics, panic=-1 reboots.
			stopped: `(?s)dracut: FATAL: imaboot: enforce: [^\n]*ima-policy.*Refusing to continue`,
			exits:   true,
		})
	})
	t.Run("systemd", func(t *testing.T) {
		t.Parallel()
		// keyring-private: the unit with systemd's default KeyringMode
		// (private) instead of shared: the service's session keyring does
		// not link the user keyring, so the agent does not possess the _ima
		// keyring it creates there and cannot set its permissions; the boot
		// stops (fails closed) instead of running without keys.
		t.Run("keyring-private", func(t *testing.T) {
			unit, err := os.ReadFile(filepath.Join(repo, "dracut/98imaboot/imaboot.service"))
			if err != nil {
				t.Fatal(err)
			}
			private := strings.Replace(string(unit), "KeyringMode=shared", "KeyringMode=private", 1)
			m := boot(t, tr, withFiles(t, tr.initrds["systemd"], map[string]string{"usr/lib/systemd/system/imaboot.service": private}), "")
			expect(t, m, `imaboot: error: enforce: step ima-certificates failed: [^\n]*keyring _ima[^\n]*EACCES`)
			expect(t, m, `reboot: System halted`)
			if strings.Contains(m.Console(), "ROOTINIT") {
				t.Error("the root's init ran")
			}
		})
		checkGenerator(t, tr, generatorCase{
			initrd:  tr.initrds["systemd"],
			newRoot: "/sysroot",
			// emergency.target isolated; dracut's emergency halts (rd.shell=0).
			stopped: `(?s)Boot has failed.*reboot: System halted`,
		})
	})
}

// TestInitramfsTools: the initramfs-tools hook and init-bottom script in an
// initramfs built by update-initramfs, with profile strict.
func TestInitramfsTools(t *testing.T) {
	t.Parallel()
	root := baseRoot(t)
	kver := kernelRelease(t, root)
	tr := prepare(t, root, options{profile: "strict"}, initramfsTools(kver))
	t.Run("unconfigured-adds-nothing", func(t *testing.T) {
		unconfiguredAddsNothing(t, tr, "mkinitramfs", "-o", "/tmp/noconf.img", kver)
	})
	checkGenerator(t, tr, generatorCase{
		initrd:  tr.initrds["initramfs-tools"],
		newRoot: "/root",
		// panic with the agent's reason; panic= makes initramfs-tools reboot.
		stopped: `(?s)\nimaboot: enforce: step ima-policy failed[^\n]*\nRebooting automatically due to panic= boot argument`,
		exits:   true,
	})
}

// initramfsTools is the generator step of the initramfs-tools trees: the
// root's own update-initramfs, the image kept as initrd-initramfs-tools.img.
func initramfsTools(kver string) map[string][]string {
	return map[string][]string{
		"initramfs-tools": {"sh", "-c", "update-initramfs -u -k " + kver + " && cp /boot/initrd.img-" + kver + " /boot/initrd-initramfs-tools.img"},
	}
}

// lsmWithoutBPF is Debian's default LSM list without bpf.
const lsmWithoutBPF = "lsm=landlock,lockdown,yama,loadpin,safesetid,integrity,apparmor,selinux,smack,tomoyo"

// seaBIOSPCR7 is PCR 7 in a QEMU guest with SeaBIOS and a TPM 2.0: reset
// value, then one EV_SEPARATOR event over ff ff ff ff (SeaBIOS extends PCRs
// 0-7 with it before booting); the kernel (not EFI) adds nothing to it.
// sha256(32 zero bytes || sha256(ff ff ff ff)).
const seaBIOSPCR7 = "e21b703ee69c77476bccb43ec0336a9a1b2914b378944f7b00a10214ca8fea93"

// sealEVMKey provisions the EVM keys against a fresh swtpm on the host
// (imaboot-seal init, sealed to the guest's PCR 7 and the lock PCR 13) and
// writes the blobs to the tree's /etc/keys. It returns the swtpm state
// directory, which the guest's swtpm then runs on.
func sealEVMKey(t *testing.T, bins, root string) string {
	t.Helper()
	state := filepath.Join(t.TempDir(), "tpm")
	sim, err := swtpm.Start(state)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	runLogged(t, filepath.Join(bins, "imaboot-seal"), "--tpm", "unix:"+sim.Socket,
		"--sealed", filepath.Join(root, "etc/keys/kmk.sealed"),
		"--evm-blob", filepath.Join(root, "etc/keys/evm-key.blob"), "init", "--pcr-value", "7="+seaBIOSPCR7)
	return state
}

// unconfiguredAddsNothing builds one more initramfs in the tree with
// /etc/imaboot/imaboot.conf moved away (build: the generator's command
// writing /tmp/noconf.img in the chroot) and checks that neither the agent
// nor a configuration is in it: installing the package on a machine without a configuration must not
// stop its next boot. The configuration is put back afterwards.
func unconfiguredAddsNothing(t *testing.T, tr tree, build ...string) {
	t.Helper()
	conf := filepath.Join(tr.dir, "etc/imaboot/imaboot.conf")
	if err := os.Rename(conf, conf+".off"); err != nil {
		t.Fatal(err)
	}
	defer os.Rename(conf+".off", conf)
	out := inChroot(t, tr.dir, build...)
	list := inChroot(t, tr.dir, "sh", "-c", "lsinitrd /tmp/noconf.img 2>/dev/null || lsinitramfs /tmp/noconf.img")
	if !strings.Contains(list, "usr/bin") && !strings.Contains(list, "bin/") {
		t.Fatalf("cannot list /tmp/noconf.img:\n%s", tail(list, 2000))
	}
	// initramfs-tools copies every boot script; its init-bottom/imaboot
	// then finds no agent and does nothing.
	if strings.Contains(list, "imaboot-init") || strings.Contains(list, "etc/imaboot") {
		t.Errorf("imaboot is in an initramfs built without a configuration:\n%s", tail(out, 2000))
	}
}
