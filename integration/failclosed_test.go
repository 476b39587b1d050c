package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
)

// integrityScenario is a signed root with an RSA certificate and basicPolicy
// in the initramfs; change modifies it for one failure.
func integrityScenario(t *testing.T, mode string, change func(dir string, s *scenario)) scenario {
	dir := t.TempDir()
	rsa := newSigningKey(t, dir, "rsa", "rsa")
	files := []signedFile{{dir: "signed", key: &rsa, hash: "sha256"}, {dir: "unsigned"}}
	policy := filepath.Join(dir, "ima-policy")
	if err := os.WriteFile(policy, []byte(basicPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	s := scenario{
		integrity: true,
		config:    "MODE=" + mode + "\n",
		append:    "root=/dev/vda",
		files:     map[string]string{"/etc/keys/ima/rsa.der": rsa.CertDER, "/etc/imaboot/ima-policy": policy},
		root:      signedRoot(t, rsa, files),
	}
	change(dir, &s)
	return s
}

func writeFile(t *testing.T, dir, name, content string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// invalidRulePolicy has a rule no kernel accepts, after good ones.
const invalidRulePolicy = basicPolicy + "appraise func=BPRM_CHECK fowner=0 bogus_condition=1\n"

// TestIntegrityFailuresHaltInEnforce: a corrupt certificate file, an empty
// certificate directory, a policy with an invalid rule and a missing policy
// file each stop the boot before the switch, with the reason on one line.
func TestIntegrityFailuresHaltInEnforce(t *testing.T) {
	cases := []struct {
		name   string
		change func(dir string, s *scenario)
		reason string
	}{
		{"corrupt-certificate", func(dir string, s *scenario) {
			s.files["/etc/keys/ima/broken.der"] = writeFile(t, dir, "broken.der", "this is not a certificate\n")
		}, "imaboot: error: enforce: step ima-certificates failed: certificate /etc/keys/ima/broken.der"},
		{"empty-certificate-dir", func(dir string, s *scenario) {
			delete(s.files, "/etc/keys/ima/rsa.der")
			empty := filepath.Join(dir, "empty")
			os.Mkdir(empty, 0o755)
			s.dirs = map[string]string{"/etc/keys/ima": empty}
			s.broken = true
		}, "imaboot: error: enforce: step ima-certificates failed: 0 certificate(s) loaded into _ima"},
		{"invalid-rule", func(dir string, s *scenario) {
			s.files["/etc/imaboot/ima-policy"] = writeFile(t, dir, "bad-policy", invalidRulePolicy)
			s.broken = true
		}, "imaboot: error: enforce: step ima-policy failed: policy check for Linux "},
		// The checker cannot know that sha512 is a module the initramfs did
		// not load (it warns); the kernel refuses the rule, nothing loads
		// and the kernel's own reason is shown.
		{"kernel-refuses-rule", func(dir string, s *scenario) {
			s.files["/etc/imaboot/ima-policy"] = writeFile(t, dir, "sha512-policy", basicPolicy+"appraise func=MODULE_CHECK appraise_algos=sha512\n")
		}, `imaboot: error: enforce: step ima-policy failed: IMA policy rule 10 "appraise func=MODULE_CHECK appraise_algos=sha512": refused with EINVAL (invalid argument); kernel: ima: unavailable hash algorithm "sha512"`},
		// Behind 39 accepted rules the refused rule's audit record is past
		// printk's rate limit (10 per 5 s); the agent writes it again
		// alone, with the limit raised, to show it.
		{"kernel-refuses-rule-late", func(dir string, s *scenario) {
			s.files["/etc/imaboot/ima-policy"] = writeFile(t, dir, "late-sha512-policy", basicPolicy+manyRules(30)+"appraise func=MODULE_CHECK appraise_algos=sha512\n")
		}, `imaboot: error: enforce: step ima-policy failed: IMA policy rule 40 "appraise func=MODULE_CHECK appraise_algos=sha512": refused with EINVAL`},
		{"missing-policy", func(dir string, s *scenario) {
			delete(s.files, "/etc/imaboot/ima-policy")
			s.broken = true
		}, "imaboot: error: enforce: step ima-policy failed: read IMA policy: open /etc/imaboot/ima-policy: no such file or directory"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
				if strings.HasPrefix(tc.name, "kernel-refuses-rule") && k.Short() != "6.1" {
					t.Skip("sha512 is built into 6.12: the kernel accepts the rule there")
				}
				m := boot(t, k, integrityScenario(t, "enforce", tc.change))
				expectHalt(t, m, tc.reason)
				if strings.HasPrefix(tc.name, "kernel-refuses-rule") {
					// The refused rule's own audit record, not just the
					// kernel's "ima:" line.
					if !regexp.MustCompile(`imaboot: error: [^\n]*audit: type=1807[^\n]*appraise_algos=sha512 res=0`).MatchString(m.Console()) {
						t.Error("the halt line lacks the refused rule's audit record")
					}
				}
				t.Logf("halt reason: %s", regexp.MustCompile(`imaboot: error: .*`).FindString(m.Console()))
			})
		})
	}
}

// manyRules is n harmless rules (dont_measure for made-up magics).
func manyRules(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "dont_measure fsmagic=0x%x\n", 0x51000+i)
	}
	return b.String()
}

// TestInvalidPolicyPermissive: permissive mode boots with a warning, and
// nothing of the refused policy was loaded (the policy file is still there
// and an unsigned binary runs).
func TestInvalidPolicyPermissive(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		s := integrityScenario(t, "permissive", func(dir string, s *scenario) {
			s.files["/etc/imaboot/ima-policy"] = writeFile(t, dir, "bad-policy", invalidRulePolicy)
			s.broken = true
		})
		m := boot(t, k, s)
		expect(t, m, `imaboot: warning: permissive: step ima-policy failed, continuing: policy check for Linux .*bogus_condition`)
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		expectExec(t, con, signedFile{dir: "unsigned"}, true)
		if strings.Contains(con, "IMA policy loaded") {
			t.Error("a policy was reported loaded")
		}
	})
}

// seedPolicy is the mission's seed policy, verbatim.
const seedPolicy = `dont_measure fsmagic=0x9660
dont_appraise fsmagic=0x9660
dont_measure fsmagic=0x27e0eb
dont_appraise fsmagic=0x27e0eb
dont_appraise fsmagic=0x4d44
measure func=BPRM_CHECK
measure func=FILE_MMAP mask=MAY_EXEC
measure func=FILE_CHECK mask=MAY_READ uid=0
appraise func=BPRM_CHECK fowner=0 appraise_type=imasig
appraise func=MMAP_CHECK fowner=0 appraise_type=imasig
hash fowner=0
`

// TestSeedPolicy: the seed policy (after the pseudo file system exclusions
// the test root needs) loads on both kernels and behaves as written: signed
// root-owned executables run, unsigned ones are refused, and executions and
// root's reads are measured.
func TestSeedPolicy(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		s := integrityScenario(t, "enforce", func(dir string, s *scenario) {
			s.files["/etc/imaboot/ima-policy"] = writeFile(t, dir, "seed", pseudoFSExclusions+seedPolicy)
		})
		m := boot(t, k, s)
		expect(t, m, `imaboot: ima-policy: IMA policy loaded, 18 rules`)
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		expectExec(t, con, signedFile{dir: "signed"}, true)
		expectExec(t, con, signedFile{dir: "unsigned"}, false)
		// measure func=BPRM_CHECK measures even the refused execution.
		expectMeasured(t, con, signedFile{dir: "signed"})
		expectMeasured(t, con, signedFile{dir: "unsigned"})
	})
}

// TestSignedPolicy: a policy with "appraise func=POLICY_CHECK" is loaded by
// writing its path (the kernel reads, and from then on appraises, policy
// files itself). The policy and the certificates are read from the root
// (KEYS_FROM_ROOT=yes), where the policy carries an evmctl signature.
func TestSignedPolicy(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		dir := t.TempDir()
		rsa := newSigningKey(t, dir, "rsa", "rsa")
		files := []signedFile{{dir: "signed", key: &rsa, hash: "sha256"}, {dir: "unsigned"}}
		root := signedRoot(t, rsa, files)
		prepare := root.Prepare
		root.Prepare = func(tree string) error {
			if err := prepare(tree); err != nil {
				return err
			}
			policy := filepath.Join(tree, "etc/imaboot/ima-policy")
			os.MkdirAll(filepath.Dir(policy), 0o755)
			os.MkdirAll(filepath.Join(tree, "etc/keys/ima"), 0o755)
			copyFile(t, rsa.CertDER, filepath.Join(tree, "etc/keys/ima/rsa.der"), 0o644)
			if err := os.WriteFile(policy, []byte(basicPolicy+"appraise func=POLICY_CHECK appraise_type=imasig\n"), 0o644); err != nil {
				return err
			}
			evmSign(t, rsa, "sha256", policy)
			return nil
		}
		m := boot(t, k, scenario{integrity: true, config: "KEYS_FROM_ROOT=yes\n", append: "root=/dev/vda", root: root})
		expect(t, m, `imaboot: ima-policy: IMA policy loaded from its signed file`)
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		expectExec(t, con, files[0], true)
		expectExec(t, con, files[1], false)
	})
}
