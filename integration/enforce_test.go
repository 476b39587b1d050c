package integration

// Enforce mode against root (issue 15, the agent's half) and the
// break-glass (issue 19 item 2), on real kernels.
//
// Disk layout: vda is the ext4 root (busybox, /sbin/init, /test.sh,
// /opt/<dir>/echo copies of busybox); TestEnforceHoldsAgainstRoot adds
// /bin/keyattack (integration/fixture/keyattack), /etc/rogue.der, the
// certificate of a key "root generated" (made on the host: the point is
// that it is not the release key), Debian's dummy.ko signed and stripped
// under /opt/mod, /opt/tryexec (integration/fixture/tryexec) and the
// kernel's own vmlinuz as /opt/kexec/vmlinuz; TestBreakGlass adds /var/backup/init,
// the good signed copy of /sbin/init.

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/initagent"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
)

// fowner1000Policy appraises only files owned by uid 1000: nothing the
// agent or the root's init executes before /test.sh (all root's) makes the
// kernel verify a signature, so without imaboot's canary the first lookup
// of _ima and _evm would be the attacker's.
const fowner1000Policy = pseudoFSExclusions + `measure func=BPRM_CHECK
appraise func=BPRM_CHECK fowner=1000 appraise_type=imasig
`

// TestEnforceHoldsAgainstRoot: after the switch, root tries to make the
// kernel trust a key of its own: add_key and link into _ima and _evm (EPERM:
// sealed), and a new session keyring with an _ima and an _evm of its own
// holding its certificate, from which it runs a program signed by its key
// (refused: the kernel looked the keyrings up from the agent, through the
// canary, before the switch). Programs signed by the release key (IMA
// signature and EVM portable signature) run; root's own and unsigned ones
// are refused, for root and a user. Lockdown reads integrity: a kernel
// module stripped of Debian's signature is refused (EPERM), the signed one
// loads, and kexec_file_load of Debian's own kernel is refused (EPERM: its
// signature does not verify with the keys a boot without UEFI gives the
// kernel). The status file says keyrings sealed, enforcement proven.
func TestEnforceHoldsAgainstRoot(t *testing.T) {
	attack, kexec := guestTool(t, "keyattack"), guestTool(t, "tryexec")
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		dir := t.TempDir()
		release := newSigningKey(t, dir, "release", "rsa")
		rogue := newSigningKey(t, dir, "rogue", "rsa")
		files := []signedFile{{dir: "signed", key: &release}, {dir: "rogue", key: &rogue}, {dir: "unsigned"}}
		script := "#!/bin/sh\n" +
			"/bin/keyattack session /etc/rogue.der /opt/rogue/echo RAN-session; echo \"RC-session=$?\"\n" +
			"for r in _ima _evm; do /bin/keyattack add $r /etc/rogue.der; /bin/keyattack link $r /etc/rogue.der; done\n" +
			"/bin/keyattack module /opt/mod/unsigned.ko; /bin/keyattack module /opt/mod/signed.ko\n" +
			"/opt/tryexec kexec /opt/kexec/vmlinuz -\n" +
			strings.TrimPrefix(execChecks(files), "#!/bin/sh\n") +
			"echo \"LOCKDOWN=$(cat /sys/kernel/security/lockdown)\"\n" +
			"busybox dmesg | grep -E 'cause=|keyring' | sed 's/^/KMSG /'\n"
		root := fixture.Root{
			SizeMB: 96,
			Files: map[string]string{
				"/test.sh":    script,
				"/etc/passwd": "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
				"/etc/group":  "root:x:0:\nnogroup:x:65534:\n",
			},
			Prepare: func(tree string) error {
				copyFile(t, attack, filepath.Join(tree, "bin/keyattack"), 0o755)
				copyFile(t, rogue.CertDER, filepath.Join(tree, "etc/rogue.der"), 0o644)
				copyFile(t, kexec, filepath.Join(tree, "opt/tryexec"), 0o755)
				copyFile(t, k.Vmlinuz, filepath.Join(tree, "opt/kexec/vmlinuz"), 0o644)
				signed, unsigned := testModule(t, k)
				for name, data := range map[string][]byte{"signed.ko": signed, "unsigned.ko": unsigned} {
					if err := os.MkdirAll(filepath.Join(tree, "opt/mod"), 0o755); err != nil {
						return err
					}
					if err := os.WriteFile(filepath.Join(tree, "opt/mod", name), data, 0o644); err != nil {
						return err
					}
				}
				for _, f := range files {
					p := filepath.Join(tree, "opt", f.dir, "echo")
					copyFile(t, filepath.Join(tree, "bin/busybox"), p, 0o755)
					if err := os.Chown(p, 1000, 1000); err != nil {
						return err
					}
					if f.key != nil {
						// IMA signature and EVM portable signature (over
						// the owner and mode just set).
						sh(t, "evmctl", "sign", "--portable", "--imasig", "--key", f.key.Key, "--hashalgo", "sha256", p)
					}
				}
				return nil
			},
		}
		m := boot(t, k, scenario{
			integrity: true,
			config:    "HALT=poweroff\n",
			append:    "root=/dev/vda",
			files: map[string]string{
				"/etc/keys/ima/release.der": release.CertDER,
				"/etc/keys/evm/release.der": release.CertDER,
				"/etc/imaboot/ima-policy":   writeFile(t, dir, "ima-policy", fowner1000Policy),
			},
			root: root,
		})
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		expectSeen(t, con,
			"KEYATTACK add _ima: EPERM", "KEYATTACK link _ima: EPERM",
			"KEYATTACK add _evm: EPERM", "KEYATTACK link _evm: EPERM",
			// The attacker's own keyrings are made (nothing stops that)…
			"KEYATTACK session _ima: ok", "KEYATTACK session _evm: ok",
			// …but the kernel does not use them.
			"RC-session=126\n",
			"LOCKDOWN=none [integrity] confidentiality\n",
			"KEYATTACK module /opt/mod/unsigned.ko: EPERM", "KEYATTACK module /opt/mod/signed.ko: ok",
			"TRYEXEC kexec EPERM\n",
		)
		if strings.Contains(con, "\nRAN-session\n") {
			t.Error("a program signed by root's own key ran from a session keyring of root's own")
		}
		expectExec(t, con, files[0], true)
		expectExec(t, con, files[1], false)
		expectExec(t, con, files[2], false)
		st := status(t, m)
		expectHolds(t, st, initagent.Enforce, initagent.EnforcementProven, "sealed", "integrity")
		for _, name := range []string{"appraise-mode", "seal-keyrings", "prove-enforcement", "pin-evm-keyring", "lockdown"} {
			if !stepDone(st, name) {
				t.Errorf("step %s: %s (%s)", name, stepResult(st, name), stepDetail(st, name))
			}
		}
		if d := stepDetail(st, "pin-evm-keyring"); !strings.Contains(d, "_evm was looked up from the agent") {
			t.Errorf("pin-evm-keyring: %q", d)
		}
		for _, s := range st.Steps {
			switch s.Name {
			case "appraise-mode", "seal-keyrings", "prove-enforcement", "pin-evm-keyring", "lockdown":
				t.Logf("%s (%.1f ms under TCG): %s", s.Name, s.DurationMS, s.Detail)
			}
		}
	})
}

// testModule is Debian's dummy.ko of kernel k, as signed by Debian and with
// its signature stripped (the appended PKCS#7 block, its 12-byte
// module_signature trailer and the "~Module signature appended~\n" marker).
func testModule(t *testing.T, k fixture.Kernel) (signed, unsigned []byte) {
	t.Helper()
	var matches []string
	for _, dir := range []string{"lib/modules", "usr/lib/modules"} {
		m, _ := filepath.Glob(filepath.Join(k.Root, dir, k.Release, "kernel/drivers/net/dummy.ko*"))
		matches = append(matches, m...)
	}
	if len(matches) == 0 {
		t.Fatalf("no dummy.ko in %s", k.Root)
	}
	var err error
	if strings.HasSuffix(matches[0], ".xz") {
		signed, err = exec.Command("xz", "-dc", matches[0]).Output()
	} else {
		signed, err = os.ReadFile(matches[0])
	}
	if err != nil {
		t.Fatal(err)
	}
	const marker = "~Module signature appended~\n"
	if !strings.HasSuffix(string(signed), marker) || len(signed) < len(marker)+12 {
		t.Fatalf("%s is not signed", matches[0])
	}
	trailer := signed[len(signed)-len(marker)-12 : len(signed)-len(marker)]
	sigLen := int(binary.BigEndian.Uint32(trailer[8:]))
	return signed, signed[:len(signed)-len(marker)-12-sigLen]
}

// TestEnforceRefusesAppraiseOverrides: in enforce mode, ima_appraise=log,
// fix and off and evm=fix on the kernel command line stop the boot before
// the switch (right after the configuration step), with one line naming
// the parameter.
func TestEnforceRefusesAppraiseOverrides(t *testing.T) {
	for _, param := range []string{"ima_appraise=log", "ima_appraise=fix", "ima_appraise=off", "evm=fix"} {
		param := param
		t.Run(param, func(t *testing.T) {
			forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
				m := boot(t, k, integrityScenario(t, "enforce", func(dir string, s *scenario) {
					s.config += "HALT=poweroff\n"
					s.append += " " + param
				}))
				line := haltLine(t, m, "appraise-mode")
				if !strings.Contains(line, "the kernel would not enforce: "+param+" on the kernel command line") || !strings.Contains(line, "boot stopped before the switch") {
					t.Errorf("halt line %q does not name %s", line, param)
				}
				if strings.Contains(m.Console(), "ROOTINIT") {
					t.Error("the root's init ran")
				}
				t.Logf("halt line: %s", line)
			})
		})
	}
}

// TestPermissiveWarns: permissive mode reports each condition that keeps
// the boot from enforcing as a warning and goes on: ima_appraise=log on the
// command line, KEYRINGS=open, lockdown none, and the canary the kernel let
// through. The summary line and the status file say so; an unsigned program
// runs (the kernel only logs).
func TestPermissiveWarns(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		m := boot(t, k, integrityScenario(t, "permissive", func(dir string, s *scenario) {
			s.config += "KEYRINGS=open\n"
			s.append += " ima_appraise=log"
		}))
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		expectSeen(t, con,
			"imaboot: warning: appraise-mode: ima_appraise=log on the kernel command line",
			"imaboot: warning: seal-keyrings: KEYRINGS=open",
			"imaboot: warning: prove-enforcement: the kernel mapped imaboot's unsigned canary",
			"imaboot: warning: lockdown: lockdown none",
			"; permissive: enforcement off, keyrings open, lockdown none; 4 warning(s)",
		)
		expectExec(t, con, signedFile{dir: "unsigned"}, true)
		st := status(t, m)
		expectHolds(t, st, initagent.Permissive, initagent.EnforcementOff, "open", "none")
		if st.AppraiseMode != initagent.AppraiseLog || len(st.Warnings) != 4 {
			t.Errorf("appraise mode %q, warnings %q", st.AppraiseMode, st.Warnings)
		}
	})
}

// TestBreakGlass: a machine stuck by a broken update (its /sbin/init no
// longer matches its signature, so enforce refuses to run it) stays stuck
// when the initramfs forbids the break-glass (BREAK_GLASS=no); boots once
// with imaboot.break_glass, loudly (console, status file, a marker in the
// IMA measurement list), and is repaired from inside (the good signed copy
// put back); then boots enforcing again, the enforcement proven.
func TestBreakGlass(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		dir := t.TempDir()
		rsa := newSigningKey(t, dir, "rsa", "rsa")
		files := []signedFile{{dir: "signed", key: &rsa, hash: "sha256"}, {dir: "unsigned"}}
		root := signedRoot(t, rsa, files)
		sign := root.Prepare
		root.Prepare = func(tree string) error {
			if err := sign(tree); err != nil {
				return err
			}
			// The good init, signed, kept aside; then the broken update
			// rewrites /sbin/init in place (its old signature stays).
			init := filepath.Join(tree, "sbin/init")
			copyFile(t, init, filepath.Join(tree, "var/backup/init"), 0o755)
			evmSign(t, rsa, "sha256", filepath.Join(tree, "var/backup/init"))
			good, err := os.ReadFile(init)
			if err != nil {
				return err
			}
			return os.WriteFile(init, []byte(strings.Replace(string(good), "#!/bin/sh\n", "#!/bin/sh\n"+breakGlassRepair, 1)), 0o755)
		}
		certs := map[string]string{"/etc/keys/ima/rsa.der": rsa.CertDER, "/etc/imaboot/ima-policy": writeFile(t, dir, "ima-policy", basicPolicy)}
		mach := newRelabelMachine(t, k, root, "HALT=poweroff\n", certs)
		forbidden := mach.withInitramfs(t, "HALT=poweroff\nBREAK_GLASS=no\n", certs)

		// Stuck: enforce refuses the changed init.
		stuck := func(t *testing.T, m *vm.Machine) {
			t.Helper()
			line := haltLine(t, m, "switch-root")
			if !strings.Contains(line, "exec /sbin/init: permission denied") || !strings.Contains(line, "imaboot.break_glass") {
				t.Errorf("halt line %q", line)
			}
		}
		stuck(t, mach.boot(t, "root=/dev/vda"))
		m := forbidden.boot(t, "root=/dev/vda rw imaboot.break_glass")
		stuck(t, m)
		if !strings.Contains(m.Console(), "imaboot: warning: kernel command line: imaboot.break_glass ignored: BREAK_GLASS=no") {
			t.Error("the refused break-glass is not reported")
		}

		// The break-glass boot: loud, nothing enforced, repaired.
		m = mach.boot(t, "root=/dev/vda rw imaboot.break_glass=yes")
		expect(t, m, `REPAIRED`)
		if err := m.Wait(bootWait); err != nil {
			t.Fatal(err)
		}
		con := m.Console()
		expectSeen(t, con,
			"imaboot: warning: BREAK-GLASS BOOT (imaboot.break_glass): nothing is enforced in this boot",
			"imaboot: warning: prove-enforcement: break-glass boot: nothing is enforced; marker measured: /run/imaboot/probe/imaboot-break-glass",
			"; BREAK-GLASS (nothing enforced): enforcement off, keyrings sealed, lockdown none",
			"RC-unsigned-breakglass=0\n",
		)
		if !regexp.MustCompile(`\nMARKER 10 [0-9a-f]+ ima-sig sha256:[0-9a-f]+ /run/imaboot/probe/imaboot-break-glass`).MatchString(con) {
			t.Error("the break-glass marker is not in the IMA measurement list")
		}
		sm := expect(t, m, `(?s)REPAIR-STATUS-BEGIN\n(.*?)\nREPAIR-STATUS-END`)
		var st initagent.Status
		if err := json.Unmarshal([]byte(sm[1]), &st); err != nil {
			t.Fatalf("status.json: %v\n%s", err, sm[1])
		}
		if !st.BreakGlass || st.Enforcement != initagent.EnforcementOff || st.Keyrings != "sealed" || len(st.Warnings) == 0 {
			t.Errorf("break-glass status: %+v", st)
		}
		if d := stepDetail(st, "ima-policy"); !strings.Contains(d, "break-glass: appraise rules left out") {
			t.Errorf("ima-policy: %q", d)
		}

		// Repaired: enforcing again.
		m = mach.boot(t, "root=/dev/vda")
		expect(t, m, `ROOTINIT-DONE`)
		con = m.Console()
		expectExec(t, con, files[0], true)
		expectExec(t, con, files[1], false)
		st = status(t, m)
		expectHolds(t, st, initagent.Enforce, initagent.EnforcementProven, "sealed", "integrity")
		if st.BreakGlass || strings.Contains(con, "REPAIR") {
			t.Error("the repaired boot ran the break-glass path")
		}
	})
}

// breakGlassRepair is what the broken update put at the top of /sbin/init:
// in a break-glass boot it plays the admin (prints the status file and the
// marker, runs an unsigned program, puts the good signed init back).
const breakGlassRepair = `if grep -q imaboot.break_glass /proc/cmdline; then
  echo REPAIR-STATUS-BEGIN; cat /run/imaboot/status.json; echo; echo REPAIR-STATUS-END
  grep imaboot-break-glass /sys/kernel/security/ima/ascii_runtime_measurements | sed 's/^/MARKER /'
  /opt/unsigned/echo RAN-unsigned-breakglass; echo "RC-unsigned-breakglass=$?"
  mv /var/backup/init /sbin/init && echo REPAIRED
  busybox sync
  poweroff -f
fi
`

// haltLine waits for an enforce halt at step and for the machine to power
// off (HALT=poweroff), and returns the whole halt line.
func haltLine(t *testing.T, m *vm.Machine, step string) string {
	t.Helper()
	expect(t, m, `imaboot: error: enforce: step `+step+` failed: `)
	if err := m.Wait(bootWait); err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`imaboot: error: enforce: step ` + step + ` failed: [^\n]*`).FindString(m.Console())
}

// expectSeen checks that each string is on the console.
func expectSeen(t *testing.T, con string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(con, want) {
			t.Errorf("%q not seen", want)
		}
	}
}

// expectHolds checks the status file's account of what holds.
func expectHolds(t *testing.T, st initagent.Status, mode initagent.Mode, enforcement, keyrings, lockdown string) {
	t.Helper()
	if st.Mode != mode || st.Enforcement != enforcement || st.Keyrings != keyrings || st.Lockdown != lockdown {
		t.Errorf("status: mode %s, enforcement %q (%s), keyrings %q, lockdown %q; want %s, %s, %s, %s",
			st.Mode, st.Enforcement, st.EnforcementDetail, st.Keyrings, st.Lockdown, mode, enforcement, keyrings, lockdown)
	}
}

func stepDetail(st initagent.Status, name string) string {
	for _, s := range st.Steps {
		if s.Name == name {
			return s.Detail
		}
	}
	return ""
}

// TestKeyRotation: keys are rotated with a new initramfs, never live. A
// program signed by a new release key is refused while the initramfs has
// only the old certificate (the sealed keyring takes nothing more); with
// an initramfs rebuilt with both certificates, the same disk's program runs.
func TestKeyRotation(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		dir := t.TempDir()
		old := newSigningKey(t, dir, "old", "rsa")
		next := newSigningKey(t, dir, "new", "rsa")
		files := []signedFile{{dir: "oldkey", key: &old, hash: "sha256"}, {dir: "newkey", key: &next, hash: "sha256"}}
		policy := writeFile(t, dir, "ima-policy", basicPolicy)
		mach := newRelabelMachine(t, k, signedRoot(t, old, files), "", map[string]string{
			"/etc/keys/ima/old.der": old.CertDER, "/etc/imaboot/ima-policy": policy})
		m := mach.boot(t, "root=/dev/vda")
		expect(t, m, `ROOTINIT-DONE`)
		expectExec(t, m.Console(), files[0], true)
		expectExec(t, m.Console(), files[1], false)

		rotated := mach.withInitramfs(t, "", map[string]string{
			"/etc/keys/ima/old.der": old.CertDER, "/etc/keys/ima/new.der": next.CertDER, "/etc/imaboot/ima-policy": policy})
		m = rotated.boot(t, "root=/dev/vda")
		expect(t, m, `ROOTINIT-DONE`)
		expectExec(t, m.Console(), files[0], true)
		expectExec(t, m.Console(), files[1], true)
		if d := stepDetail(status(t, m), "seal-keyrings"); !strings.Contains(d, "sealed, 2 key(s)") {
			t.Errorf("seal-keyrings: %q", d)
		}
	})
}
