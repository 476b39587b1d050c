package integration

// Profile strict against the ways around appraisal an attacker tries
// (issue 15): the root's /test.sh, run as root and as uid 1000, tries each
// of them once the agent has loaded the policy and switched root, and
// prints what happened; the same root is booted with the seed profile as
// the control, where each way works.
//
// Disk layout (vda, ext4, fixture.Root): busybox, /sbin/init, /test.sh
// (strictAttacks), /opt/tryexec (integration/fixture/tryexec), the host's
// dynamic loader and libc (/lib64/ld-linux-x86-64.so.2,
// /lib/x86_64-linux-gnu/libc.so.6), /opt/signed/{echo,true}, the crc7
// module and the kernel with a small initrd under /opt/modules/signed and
// /opt/kexec/signed: all signed with the test key. Unsigned:
// /opt/unsigned/{echo,script.sh} (root's), /opt/userowned/{echo,true}
// (uid 1000's), /opt/modules/unsigned, /opt/kexec/unsigned. Mount points
// /mnt/{tmp,ramfs,rootfs}; /etc/passwd has user (1000).

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/policygen"
)

// strictAttacks is /test.sh. run NAME CMD... runs as root, user NAME
// 'SHELL' as uid 1000; each prints "STRICT NAME rc=N". Programs that run
// print RAN-NAME (busybox copies named echo), tryexec prints "TRYEXEC WHAT
// ok|ERRNO".
const strictAttacks = `#!/bin/sh
run() { n=$1; shift; "$@"; echo "STRICT $n rc=$?"; }
user() { n=$1; shift; su user -s /bin/sh -c "$*"; echo "STRICT $n rc=$?"; }
mkdir -p /run/user/1000 && chown 1000:1000 /run/user/1000
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t tmpfs -o mode=1777 scratch /mnt/tmp
mount -t ramfs ramfs /mnt/ramfs
# ways around appraisal
user tmpfs-run 'cp /opt/unsigned/echo /run/user/1000/echo && /run/user/1000/echo RAN-tmpfs-run'
user tmpfs-shm 'cp /opt/unsigned/echo /dev/shm/echo && /dev/shm/echo RAN-tmpfs-shm'
user tmpfs-new 'cp /opt/unsigned/echo /mnt/tmp/echo && /mnt/tmp/echo RAN-tmpfs-new'
run ramfs-root sh -c 'cp /opt/unsigned/echo /mnt/ramfs/echo && /mnt/ramfs/echo RAN-ramfs-root'
user memfd '/opt/tryexec memfd /opt/unsigned/echo echo RAN-memfd'
run userowned-by-root /opt/userowned/echo RAN-userowned-by-root
user ldso '/lib64/ld-linux-x86-64.so.2 /opt/userowned/true && echo RAN-ldso'
user mprotect '/opt/tryexec mprotect /opt/userowned/true'
run module-unsigned /opt/tryexec module /opt/modules/unsigned/MODULE
run kexec-unsigned /opt/tryexec kexec /opt/kexec/unsigned/vmlinuz
run kexec-initrd-unsigned /opt/tryexec kexec /opt/kexec/signed/vmlinuz /opt/kexec/unsigned/initrd
# what must still run
run signed-echo /opt/signed/echo RAN-signed-echo
user signed-echo-user '/opt/signed/echo RAN-signed-echo-user'
user signed-dyn '/opt/signed/true && echo RAN-signed-dyn'
user signed-ldso '/lib64/ld-linux-x86-64.so.2 /opt/signed/true && echo RAN-signed-ldso'
run module-signed /opt/tryexec module /opt/modules/signed/MODULE
run kexec-signed /opt/tryexec kexec /opt/kexec/signed/vmlinuz /opt/kexec/signed/initrd
# the initramfs (exempt by fsname=rootfs) after the switch: no mount makes
# another rootfs, and the kernel threads' root is the new root
run rootfs-mount mount -t rootfs rootfs /mnt/rootfs
echo "STRICT rootfs-kthreadd $(stat -L -c %d:%i /proc/2/root/) $(stat -c %d:%i /)"
# the limit no policy closes: a script read by an interpreter
run script-exec /opt/unsigned/script.sh exec
run script-sh sh /opt/unsigned/script.sh sh
`

// strictAttack is what one line of strictAttacks should show.
type strictAttack struct {
	name string
	// errno is tryexec's answer when the kernel refuses ("" for programs
	// whose refusal is their exit status).
	errno string
	// refusedBy lists the profiles that must refuse it; under the others
	// it must work.
	refusedBy []string
	// skipUnder is a profile whose boot does not judge it.
	skipUnder string
}

var strictAttackList = []strictAttack{
	{name: "tmpfs-run", refusedBy: []string{"strict"}},
	{name: "tmpfs-shm", refusedBy: []string{"strict"}},
	{name: "tmpfs-new", refusedBy: []string{"strict"}},
	{name: "ramfs-root", refusedBy: []string{"strict"}},
	{name: "memfd", errno: "EACCES", refusedBy: []string{"strict"}},
	{name: "userowned-by-root", refusedBy: []string{"strict"}},
	{name: "ldso", refusedBy: []string{"strict"}},
	{name: "mprotect", errno: "EPERM", refusedBy: []string{"strict"}},
	{name: "module-unsigned", errno: "EACCES", refusedBy: []string{"strict"}},
	{name: "kexec-unsigned", errno: "EACCES", refusedBy: []string{"strict"}},
	{name: "kexec-initrd-unsigned", errno: "EACCES", refusedBy: []string{"strict"}},
	{name: "signed-echo"},
	{name: "signed-echo-user"},
	{name: "signed-dyn"},
	{name: "signed-ldso"},
	// Under the seed the unsigned copy loaded first: EEXIST.
	{name: "module-signed", skipUnder: "seed"},
	{name: "kexec-signed"},
	// Refused by both: the seed appraises root's programs too.
	{name: "script-exec", refusedBy: []string{"strict", "seed"}},
	{name: "script-sh"},
}

// generated is the policy of a profile for kernel k, as imaboot-policygen
// generate writes it with the kernel's configuration.
func generated(t *testing.T, k fixture.Kernel, profile string) string {
	t.Helper()
	v, cfg := kernelTarget(t, k)
	text, err := policygen.Generate(policygen.GenerateOptions{Profile: profile, Kernel: v, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// kernelModule finds module name (.ko or .ko.xz) in k's module tree.
func kernelModule(t *testing.T, k fixture.Kernel, name string) string {
	t.Helper()
	for _, lib := range []string{"lib", "usr/lib"} {
		for _, ext := range []string{".ko", ".ko.xz"} {
			p := filepath.Join(k.Root, lib, "modules", k.Release, "kernel/lib", name+ext)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Fatalf("module %s not in %s", name, k.Root)
	return ""
}

// strictRoot is the layout at the top of this file, signed with key.
func strictRoot(t *testing.T, k fixture.Kernel, key signingKey) fixture.Root {
	module := kernelModule(t, k, "crc7")
	hostLoader, err := filepath.EvalSymlinks("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Fatal(err)
	}
	helper := guestTool(t, "tryexec")
	return fixture.Root{
		SizeMB: 128,
		Files: map[string]string{
			"/test.sh":                strings.ReplaceAll(strictAttacks, "MODULE", filepath.Base(module)),
			"/etc/passwd":             "root:x:0:0:root:/:/bin/sh\nuser:x:1000:1000:user:/:/bin/sh\n",
			"/etc/group":              "root:x:0:\nuser:x:1000:\n",
			"/opt/unsigned/script.sh": "#!/bin/sh\necho RAN-script-$1\n",
		},
		Prepare: func(dir string) error {
			for _, app := range []string{"chown", "mkdir"} {
				os.Symlink("busybox", filepath.Join(dir, "bin", app))
			}
			for _, d := range []string{"mnt/tmp", "mnt/ramfs", "mnt/rootfs"} {
				os.MkdirAll(filepath.Join(dir, d), 0o755)
			}
			bb := filepath.Join(dir, "bin/busybox")
			initrd := filepath.Join(t.TempDir(), "initrd")
			os.WriteFile(initrd, []byte("not an initramfs: kexec loads it, nothing boots it\n"), 0o644)
			copies := []struct {
				src, dst string
				signed   bool
				uid      int
			}{
				{hostLoader, "lib64/ld-linux-x86-64.so.2", true, 0},
				{"/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6", true, 0},
				{helper, "opt/tryexec", true, 0},
				{bb, "opt/signed/echo", true, 0},
				{"/bin/true", "opt/signed/true", true, 0},
				{bb, "opt/unsigned/echo", false, 0},
				{bb, "opt/userowned/echo", false, 1000},
				{"/bin/true", "opt/userowned/true", false, 1000},
				{module, "opt/modules/signed/" + filepath.Base(module), true, 0},
				{module, "opt/modules/unsigned/" + filepath.Base(module), false, 0},
				{k.Vmlinuz, "opt/kexec/signed/vmlinuz", true, 0},
				{initrd, "opt/kexec/signed/initrd", true, 0},
				{k.Vmlinuz, "opt/kexec/unsigned/vmlinuz", false, 0},
				{initrd, "opt/kexec/unsigned/initrd", false, 0},
			}
			for _, c := range copies {
				p := filepath.Join(dir, c.dst)
				copyFile(t, c.src, p, 0o755)
				if c.signed {
					evmSign(t, key, "sha256", p)
				}
				if err := os.Chown(p, c.uid, c.uid); err != nil {
					return err
				}
			}
			for _, p := range []string{"bin/busybox", "sbin/init", "test.sh"} {
				evmSign(t, key, "sha256", filepath.Join(dir, p))
			}
			return nil
		},
	}
}

var strictLineRE = regexp.MustCompile(`(?m)^STRICT (\S+) (.*)$`)

// TestStrictRefusesBypasses (issue 15): under the strict profile, loaded
// by imaboot-init from its initramfs, every way around appraisal in
// strictAttacks is refused — unsigned code from tmpfs (/run, /dev/shm, a
// new mount) and a memfd as uid 1000, from a ramfs as root, an unsigned
// file of uid 1000 run by root, an unsigned ELF started through ld.so,
// mprotect(PROT_EXEC) of a file mapped readable, an unsigned module, an
// unsigned kexec kernel or initramfs — while signed programs, libraries,
// the module and the kernel still load; "mount -t rootfs" fails and the
// kernel threads' root is the new root (so the initramfs, which strict
// leaves unappraised, is out of reach). The same root booted with the
// seed profile is the control: there each of those ways works, which is
// what strict closes.
func TestStrictRefusesBypasses(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		for _, profile := range []string{"strict", "seed"} {
			profile := profile
			t.Run(profile, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				dir := t.TempDir()
				key := newSigningKey(t, dir, "rsa", "rsa")
				policy := writeFile(t, dir, "ima-policy", generated(t, k, profile))
				// LOCKDOWN=none: the policy is judged alone. Under
				// lockdown (enforce's default) kexec_file_load of every
				// kernel here is EPERM, signed or not (TestEnforceHoldsAgainstRoot).
				m := boot(t, k, scenario{
					integrity: true,
					config:    "MODE=enforce\nLOCKDOWN=none\n",
					append:    "root=/dev/vda",
					files:     map[string]string{"/etc/keys/ima/rsa.der": key.CertDER, "/etc/imaboot/ima-policy": policy},
					root:      strictRoot(t, k, key),
				})
				expect(t, m, `ROOTINIT-DONE`)
				con := m.Console()
				got := map[string]string{}
				for _, sm := range strictLineRE.FindAllStringSubmatch(con, -1) {
					got[sm[1]] = sm[2]
				}
				for _, a := range strictAttackList {
					checkAttack(t, con, got, a, profile)
				}
				if !strings.Contains(got["rootfs-mount"], "rc=") || got["rootfs-mount"] == "rc=0" {
					t.Errorf("mount -t rootfs: %q, want it refused", got["rootfs-mount"])
				}
				if f := strings.Fields(got["rootfs-kthreadd"]); len(f) != 2 || f[0] != f[1] {
					t.Errorf("kthreadd's root and / (device:inode): %q, want the same", got["rootfs-kthreadd"])
				}
				if profile == "strict" {
					for _, l := range strings.Split(con, "\n") {
						// LOCKDOWN=none is warned, as it should be.
						if strings.Contains(l, "imaboot: warning") && !strings.Contains(l, "imaboot: warning: lockdown: ") || strings.Contains(l, "known bypass") {
							t.Errorf("the strict policy's boot warned or reported bypasses: %s", l)
						}
					}
				} else if !strings.Contains(con, "; the policy leaves 10 known bypasses: ") {
					t.Error("the seed policy's bypasses are not summed up on the ima-policy line")
				}
				if t.Failed() {
					return
				}
				var seen []string
				for _, a := range strictAttackList {
					if ans := tryexecAnswer(con, a); ans != "" {
						seen = append(seen, a.name+":"+ans)
					} else {
						seen = append(seen, a.name+":"+strings.TrimPrefix(got[a.name], "rc="))
					}
				}
				t.Logf("%s on %s: as expected: %s; boot to done %.1f s", profile, k.Release, strings.Join(seen, " "), time.Since(start).Seconds())
			})
		}
	})
}

// checkAttack checks one line of strictAttacks under profile.
func checkAttack(t *testing.T, con string, got map[string]string, a strictAttack, profile string) {
	t.Helper()
	if a.skipUnder == profile {
		return
	}
	refused := false
	for _, p := range a.refusedBy {
		refused = refused || p == profile
	}
	line, ok := got[a.name]
	if !ok {
		t.Errorf("%s: no result line", a.name)
		return
	}
	ran := strings.Contains(con, "\nRAN-"+a.name+"\n") || tryexecAnswer(con, a) == "ok"
	switch {
	case refused && (line == "rc=0" || ran):
		t.Errorf("%s under %s: ran (%s), want refused", a.name, profile, line)
	case !refused && line != "rc=0":
		t.Errorf("%s under %s: %s (tryexec: %s), want it to run", a.name, profile, line, tryexecAnswer(con, a))
	case refused && a.errno != "" && tryexecAnswer(con, a) != a.errno:
		t.Errorf("%s under %s: the kernel answered %s, want %s", a.name, profile, tryexecAnswer(con, a), a.errno)
	}
}

// tryexecAnswer is the TRYEXEC line printed just before a's result line.
func tryexecAnswer(con string, a strictAttack) string {
	i := strings.Index(con, "STRICT "+a.name+" ")
	if i < 0 {
		return ""
	}
	before := con[:i]
	j := strings.LastIndex(before, "TRYEXEC ")
	if j < 0 || strings.Contains(before[j:], "STRICT ") {
		return ""
	}
	f := strings.Fields(before[j:])
	if len(f) < 3 {
		return ""
	}
	return f[2]
}
