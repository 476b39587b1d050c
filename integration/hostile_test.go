package integration

// Root of TestHostileTrees, as booted (labeled on the host by
// imaboot-relabel --sign, then the offline changes):
//
//	/bin/busybox (+ applets), /sbin/init (fixture.MarkerInit), /test.sh
//	/bin/imaboot-relabel, /bin/imaboot-init, /bin/xattrdump, /bin/racer
//	/opt/signed/echo           signed on the host
//	/opt/unsigned/echo         copied after labeling: no label
//	/etc/imaboot/imaboot.conf  MODE=enforce, for the stray --hook runs
//	/etc/imaboot/ima-policy    fixture.AppraisePolicy (signed executions) after
//	                           dont_appraise fsname=rootfs (hook mode wants it)
//	/etc/keys/ima/rsa.der      the certificate
//	/race/path/a/f0..f9        unlabeled; /race/path/link -> /race/outside
//	/race/outside/f0..f9       unlabeled, must stay so
//
// The initramfs loads no policy and no certificate (IMA_POLICY=) and leaves
// the keyrings open (KEYRINGS=open): the system boots with the kernel's
// default policy, as a running system an admin works on, where a stray
// --hook could still load keys and a policy.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
)

// hostileScript is /test.sh after its "#!/bin/sh" line.
const hostileScript = `X=/bin/xattrdump
policy=/sys/kernel/security/ima/policy
# 1. A stray "imaboot-init --hook" on the running system: refused, nothing loaded.
# (/mnt: a mounted root the hook would accept, on another device than /.)
mkdir -p /mnt && mount -t tmpfs none /mnt
/bin/imaboot-init --hook --root /mnt > /tmp/hook.out 2>&1; echo "HOOK-RC=$?"
sed 's/^/HOOK: /' /tmp/hook.out
[ -e $policy ] && echo "POLICY-FILE-PRESENT" || echo "POLICY-FILE-GONE"
# 2. A directory of PATH swapped with a symlink out of it while it is labeled.
/bin/racer /race/path/a /race/path/link 15 /bin/imaboot-relabel --force --no-dpkg --progress never /race/path > /tmp/race.out 2>&1
grep '^RACE ' /tmp/race.out
grep -c '^FAILED ' /tmp/race.out | sed 's/^/RACE-REPORTED=/'
$X -n security.ima /race/outside/f* | sed 's/^/OUTSIDE /'
$X -n security.ima /race/path/a/f0 /race/path/link/f0 | sed 's/^/INSIDE /'
# 3. Hash mode (the README's first example, on /opt) over signed files.
/bin/imaboot-relabel --progress never /opt | sed 's/^/HASHMODE: /'
$X -n security.ima /opt/signed/echo | sed 's/^/AFTER-HASHMODE /'
# 4. The deliberate override loads the enforcing policy into this kernel.
/bin/imaboot-init --hook --root /mnt --outside-initramfs > /tmp/hook2.out 2>&1; echo "HOOK2-RC=$?"
sed 's/^/HOOK2: /' /tmp/hook2.out
[ -e $policy ] && echo "POLICY2-FILE-PRESENT" || echo "POLICY2-FILE-GONE"
`

// TestHostileTrees, on a booted system, on both kernels:
//  1. imaboot-init --hook refuses to run outside an initramfs (exit 2, the
//     policy file still there: nothing was loaded);
//  2. imaboot-relabel never labels outside PATH while a directory of PATH
//     is swapped with a symlink to a directory outside it (renameat2
//     RENAME_EXCHANGE in a loop, 15 runs);
//  3. imaboot-relabel in hash mode keeps the IMA signature of a signed file;
//  4. --outside-initramfs loads the enforcing policy through the hook, and
//     the signed file still runs (its signature survived 3) while an
//     unsigned one is refused.
func TestHostileTrees(t *testing.T) {
	tools := buildRelabelTools(t)
	racer := guestTool(t, "racer")
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		key := newSigningKey(t, t.TempDir(), "rsa", "rsa")
		execs := []signedFile{{dir: "signed"}, {dir: "unsigned"}}
		policy := filepath.Join(t.TempDir(), "ima-policy")
		// Hook mode refuses a policy that would appraise the initramfs.
		if err := os.WriteFile(policy, []byte("dont_appraise fsname=rootfs\n"+basicPolicy), 0o644); err != nil {
			t.Fatal(err)
		}
		root := relabeledRoot{
			tools: tools, key: key, execs: execs[:1],
			script: hostileScript + strings.TrimPrefix(execChecks(execs), "#!/bin/sh\n") + relabelKernelCauses,
			bins: map[string]string{
				"bin/imaboot-relabel": tools.relabel, "bin/imaboot-init": bins["imaboot-init"], "bin/racer": racer,
			},
			offline: func(t testing.TB, dir string) {
				copyFile(t, filepath.Join(dir, "bin/busybox"), filepath.Join(dir, "opt/unsigned/echo"), 0o755)
				copyFile(t, key.CertDER, filepath.Join(dir, "etc/keys/ima/rsa.der"), 0o644)
				copyFile(t, policy, filepath.Join(dir, "etc/imaboot/ima-policy"), 0o644)
				if err := os.WriteFile(filepath.Join(dir, "etc/imaboot/imaboot.conf"), []byte("MODE=enforce\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < 10; i++ {
					for _, d := range []string{"race/path/a", "race/outside"} {
						p := filepath.Join(dir, d, fmt.Sprintf("f%d", i))
						os.MkdirAll(filepath.Dir(p), 0o755)
						if err := os.WriteFile(p, []byte(d+p), 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := os.Symlink("/race/outside", filepath.Join(dir, "race/path/link")); err != nil {
					t.Fatal(err)
				}
			},
		}.build(t)
		mach := newRelabelMachine(t, k, root, "IMA_POLICY=\nMIN_IMA_CERTS=0\nKEYRINGS=open\n", nil)
		m := mach.boot(t, "root=/dev/vda rw")
		expect(t, m, `ROOTINIT-DONE`)
		if err := m.Wait(bootWait); err != nil {
			t.Fatal(err)
		}
		con := m.Console()

		relabelExpectLine(t, con, "HOOK-RC=2")
		if !regexp.MustCompile(`\nHOOK: imaboot-init: --hook refused: not in an initramfs \(/ is on ext2/3/4 \(magic 0xef53\)`).MatchString(con) {
			t.Error("the stray --hook did not say why it refused")
		}
		relabelExpectLine(t, con, "POLICY-FILE-PRESENT")

		race := regexp.MustCompile(`\nRACE runs=15 swaps=(\d+) exit0=(\d+) exit1=(\d+) other=0\n`).FindStringSubmatch(con)
		if race == nil || race[1] == "0" {
			t.Error("the race did not run (no RACE line, or no swap)")
		} else {
			t.Logf("race: %s swaps during 15 runs; %s runs exited 0, %s reported a directory replaced while walked (%s)",
				race[1], race[2], race[3], strings.TrimSpace(relabelPrefixed(con, "RACE-REPORTED=")))
		}
		for i := 0; i < 10; i++ {
			if v := relabelXattr(t, con, "OUTSIDE ", fmt.Sprintf("/race/outside/f%d", i), "security.ima"); !strings.HasPrefix(v, "none") {
				t.Errorf("/race/outside/f%d, outside PATH, was labeled: %s", i, v)
			}
		}
		if v := relabelXattr(t, con, "INSIDE ", "/race/path/a/f0", "security.ima"); !strings.HasPrefix(v, "0404") {
			t.Errorf("/race/path/a/f0, inside PATH, has security.ima %s, want a sha256 hash", v)
		}

		if !regexp.MustCompile(`\nHASHMODE: .*\nHASHMODE: 1 files kept their signatures`).MatchString(con) {
			t.Errorf("hash mode did not report the kept signature:\n%s", relabelPrefixed(con, "HASHMODE: "))
		}
		if v := relabelXattr(t, con, "AFTER-HASHMODE ", "/opt/signed/echo", "security.ima"); !strings.HasPrefix(v, "030204") {
			t.Errorf("after hash mode /opt/signed/echo has security.ima %s, want its sha256 signature (030204...)", v)
		}

		relabelExpectLine(t, con, "HOOK2-RC=0")
		relabelExpectLine(t, con, "POLICY2-FILE-GONE")
		if !strings.Contains(con, "HOOK2: imaboot: ima-policy: IMA policy loaded, 10 rules") {
			t.Errorf("--outside-initramfs did not load the policy:\n%s", relabelPrefixed(con, "HOOK2: "))
		}
		expectExec(t, con, execs[0], true)
		expectExec(t, con, execs[1], false)
		relabelExpectCause(t, con, "IMA-signature-required", "/opt/unsigned/echo")
	})
}
