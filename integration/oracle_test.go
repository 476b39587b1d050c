package integration

// The kernel is the oracle (issue 3): real kernels judge IMA policy rules
// and must agree with imaboot-policygen.
//
// These machines have no disk: the initramfs holds the oracle init
// (integration/fixture/oracleinit) as /init, the static imaboot-policygen,
// the kernel's configuration from policygen/testdata and a plan. The init
// mounts proc, sysfs, devtmpfs and securityfs, runs the plan, prints marker
// lines (fixture.OracleMarker*) and powers off.

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

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
	"github.com/imaboot/imaboot/policygen"
)

const (
	// oracleWait bounds one oracle run: about 1,400 open/write/close
	// sessions under TCG on a loaded 2-core machine.
	oracleWait       = 10 * time.Minute
	guestPolicygen   = "/bin/imaboot-policygen"
	guestKernelCfg   = "/etc/oracle/kernel-config"
	guestProfilesDir = "/etc/oracle/profiles"
	minCorpus        = 300
)

// buildOracle compiles imaboot-policygen and the oracle init for one test.
func buildOracle(t *testing.T) fixture.Binaries {
	t.Helper()
	repo, err := fixture.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := fixture.BuildOracle(repo, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// kernelConfig is the trimmed Debian configuration of k in policygen/testdata.
func kernelConfig(t *testing.T, k fixture.Kernel) string {
	t.Helper()
	repo, err := fixture.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(repo, "policygen", "testdata", "config-"+k.Short()+"-debian-cloud")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no kernel configuration for %s: %v", k.Release, err)
	}
	return p
}

// kernelTarget is k's version and trimmed configuration, as the checker
// takes them.
func kernelTarget(t *testing.T, k fixture.Kernel) (policygen.KernelVersion, *policygen.KernelConfig) {
	t.Helper()
	f, err := os.Open(kernelConfig(t, k))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := policygen.ParseKernelConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	v, err := policygen.ParseKernelVersion(k.Release)
	if err != nil {
		t.Fatal(err)
	}
	return v, cfg
}

// oracleBoot builds the initramfs and starts a diskless machine.
func oracleBoot(t *testing.T, k fixture.Kernel, s fixture.OracleInitramfs) *vm.Machine {
	t.Helper()
	initrd := filepath.Join(t.TempDir(), "oracle-initrd.img")
	if err := s.Build(initrd); err != nil {
		t.Fatal(err)
	}
	// loglevel=1: the kernel's complaints about refused rules (pr_err)
	// stay off the serial line, where they could split a marker line; the
	// init echoes what the kernel logs about a real load (ORACLE-KMSG).
	return vm.StartT(t, k.Release, vm.Options{Kernel: k.Vmlinuz, Initrd: initrd, Append: "quiet loglevel=1"})
}

// oracleExpect waits for re on the console; it fails at once if the init
// reported an error of its own.
func oracleExpect(t *testing.T, m *vm.Machine, re string, wait time.Duration) []string {
	t.Helper()
	sm, err := m.Expect(regexp.MustCompile(re+`|`+fixture.OracleMarkerError+` (.*)`), wait)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(sm[0], fixture.OracleMarkerError) {
		t.Fatalf("oracle init: %s", sm[len(sm)-1])
	}
	return sm
}

// poweredOff checks that the init got to its end and the machine stopped.
func poweredOff(t *testing.T, m *vm.Machine) {
	t.Helper()
	oracleExpect(t, m, fixture.OracleMarkerPowerOff, bootWait)
	if err := m.Wait(bootWait); err != nil {
		t.Error(err)
	}
}

// oracleSummary is what "imaboot-policygen oracle" printed in one run.
type oracleSummary struct {
	kernel                                string
	rules, agree, disagree, uncertain, ms int
	exit                                  int
	disagreements, uncertainties          []string
}

var (
	oracleSummaryRE = regexp.MustCompile(`(?m)^ORACLE SUMMARY kernel=(\S+) rules=(\d+) agree=(\d+) disagree=(\d+) uncertain=(\d+)$`)
	oracleLineRE    = regexp.MustCompile(`(?m)^ORACLE (DISAGREE|UNCERTAIN) .*$`)
)

// runOutput waits for the plan's run name to end and returns its console
// text and exit status and time.
func runOutput(t *testing.T, m *vm.Machine, name string) (out string, exit, ms int) {
	t.Helper()
	sm := oracleExpect(t, m, `(?s)`+fixture.OracleMarkerRunBegin+` `+regexp.QuoteMeta(name)+`\n(.*?)`+
		fixture.OracleMarkerRunEnd+` `+regexp.QuoteMeta(name)+` exit=(\d+) ms=(\d+)\n`, oracleWait)
	exit, _ = strconv.Atoi(sm[2])
	ms, _ = strconv.Atoi(sm[3])
	return sm[1], exit, ms
}

func parseOracle(t *testing.T, m *vm.Machine, name string) oracleSummary {
	t.Helper()
	out, exit, ms := runOutput(t, m, name)
	s := oracleSummary{exit: exit, ms: ms}
	sm := oracleSummaryRE.FindStringSubmatch(out)
	if sm == nil {
		t.Fatalf("%s: no ORACLE SUMMARY line (exit status %d):\n%s", name, exit, out)
	}
	s.kernel = sm[1]
	for i, p := range []*int{&s.rules, &s.agree, &s.disagree, &s.uncertain} {
		*p, _ = strconv.Atoi(sm[i+2])
	}
	for _, l := range oracleLineRE.FindAllStringSubmatch(out, -1) {
		if l[1] == "DISAGREE" {
			s.disagreements = append(s.disagreements, l[0])
		} else {
			s.uncertainties = append(s.uncertainties, l[0])
		}
	}
	return s
}

// check fails on any disagreement (printing each) and on a summary that
// does not add up to want rules.
func (s oracleSummary) check(t *testing.T, name string, k fixture.Kernel, want int) {
	t.Helper()
	for _, d := range s.disagreements {
		t.Errorf("%s on %s: %s", name, k.Release, d)
	}
	if s.disagree != 0 || len(s.disagreements) != s.disagree {
		t.Errorf("%s on %s: %d disagreement(s) counted, %d printed", name, k.Release, s.disagree, len(s.disagreements))
	}
	if s.rules != want || s.agree+s.disagree+s.uncertain != s.rules {
		t.Errorf("%s on %s: summary rules=%d agree=%d disagree=%d uncertain=%d, want %d rules judged", name, k.Release, s.rules, s.agree, s.disagree, s.uncertain, want)
	}
	if len(s.uncertainties) != s.uncertain {
		t.Errorf("%s on %s: %d uncertain verdicts counted, %d printed", name, k.Release, s.uncertain, len(s.uncertainties))
	}
	if wantExit := map[bool]int{true: 0, false: 1}[s.disagree == 0]; s.exit != wantExit {
		t.Errorf("%s on %s: exit status %d, want %d", name, k.Release, s.exit, wantExit)
	}
	if !strings.HasPrefix(k.Release, s.kernel) {
		t.Errorf("%s: the oracle judged for kernel %s, the machine runs %s", name, s.kernel, k.Release)
	}
}

// TestKernelIsTheOracle: every rule of policygen's oracle corpus is written
// to the running kernel, each in its own session that is discarded before
// close, and "imaboot-policygen oracle" compares each verdict with what the
// checker predicts for that kernel version and configuration. Any
// disagreement fails the test and is printed. The policy file is still
// there afterwards: the judging loaded nothing.
//
// In the same boot a control run judges the corpus against the other
// kernel's grammar and configuration: it must disagree (the kernels differ
// in keywords and built-in hashes), which shows the comparison bites.
func TestKernelIsTheOracle(t *testing.T) {
	corpus := policygen.OracleCorpus()
	if len(corpus) < minCorpus {
		t.Fatalf("the oracle corpus has %d rules, want at least %d", len(corpus), minCorpus)
	}
	ob := buildOracle(t)
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		other := otherKernel(t, k)
		const otherCfg = "/etc/oracle/other-kernel-config"
		start := time.Now()
		m := oracleBoot(t, k, fixture.OracleInitramfs{
			Init: ob["oracleinit"],
			Files: map[string]string{
				guestPolicygen: ob["imaboot-policygen"],
				guestKernelCfg: kernelConfig(t, k),
				otherCfg:       kernelConfig(t, other),
			},
			Plan: fixture.OraclePlan{Runs: []fixture.OracleRun{
				{Name: "corpus", Args: []string{guestPolicygen, "oracle", "--kernel-config", guestKernelCfg}},
				{Name: "control", Args: []string{guestPolicygen, "oracle", "--kernel", other.Release, "--kernel-config", otherCfg}},
			}},
		})
		s := parseOracle(t, m, "corpus")
		s.check(t, "oracle corpus", k, len(corpus))
		for _, u := range s.uncertainties {
			t.Logf("%s", u)
		}
		accepted := predictedAccepts(t, m, k, corpus)

		c := parseOracle(t, m, "control")
		if c.disagree == 0 || len(c.disagreements) != c.disagree || c.exit != 1 || c.rules != len(corpus) {
			t.Errorf("control (%s judged as %s): rules=%d disagree=%d (%d printed) exit=%d; want disagreements, each printed, exit status 1",
				k.Release, other.Release, c.rules, c.disagree, len(c.disagreements), c.exit)
		}
		for i, d := range c.disagreements {
			if i == 3 {
				break
			}
			t.Logf("control, as expected: %s", d)
		}

		oracleExpect(t, m, fixture.OracleMarkerPolicy+` present\n`, bootWait)
		poweredOff(t, m)
		if t.Failed() {
			return
		}
		t.Logf("%s: %d rules judged by the kernel (%d accepted, %d refused): %d agree, %d disagree, %d uncertain; oracle run %.1f s; "+
			"control as %s: %d disagree; boot %.1f s",
			k.Release, s.rules, accepted, s.rules-accepted, s.agree, s.disagree, s.uncertain, float64(s.ms)/1000,
			other.Short(), c.disagree, time.Since(start).Seconds())
	})
}

// otherKernel is a test kernel of another series than k.
func otherKernel(t *testing.T, k fixture.Kernel) fixture.Kernel {
	t.Helper()
	for _, o := range kernels {
		if o.Short() != k.Short() {
			return o
		}
	}
	t.Fatalf("no second kernel series to compare %s with", k.Release)
	return k
}

// predictedAccepts counts the corpus rules the checker accepts for k with
// the guest's LSM; when every verdict agrees and none is uncertain, that is
// how many the kernel accepted.
func predictedAccepts(t *testing.T, m *vm.Machine, k fixture.Kernel, corpus []string) int {
	t.Helper()
	lsm := oracleExpect(t, m, fixture.OracleMarkerLSM+` (\S*)\n`, bootWait)[1]
	v, cfg := kernelTarget(t, k)
	cfg.ActiveLSM = policygen.ActiveLSMFromList(lsm)
	n := 0
	for _, r := range corpus {
		if policygen.Predict(r, v, cfg).Accept {
			n++
		}
	}
	return n
}

// profileVariants are the generate options each profile is judged with;
// the first is the one loaded for real.
var profileVariants = []struct {
	name string
	args []string
}{
	{"default", nil},
	{"hash-fsname", []string{"--appraisal", "hash", "--fsname"}},
	{"owner-exclude", []string{"--owner", "1000", "--exclude-fs", "vfat,overlay,fuse,nfs"}},
}

// variantArgs are a variant's options as profile takes them: a profile
// that appraises every owner with signatures refuses --owner and
// --appraisal hash, and is judged with the rest.
func variantArgs(profile string, args []string) []string {
	strict := false
	for _, p := range policygen.Profiles() {
		strict = strict || (p.Name == profile && p.SignaturesForAll)
	}
	if !strict {
		return args
	}
	var kept []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--owner" || args[i] == "--appraisal" {
			i++
			continue
		}
		kept = append(kept, args[i])
	}
	return kept
}

// generateProfile runs the host's imaboot-policygen generate for kernel k
// and checks its output with check for the same kernel (exit 0: no errors).
func generateProfile(t *testing.T, policygenBin, profile string, k fixture.Kernel, cfg string, args []string) string {
	t.Helper()
	args = variantArgs(profile, args)
	target := []string{"--kernel", k.Release, "--kernel-config", cfg}
	gen := exec.Command(policygenBin, append(append([]string{"generate", "--profile", profile}, target...), args...)...)
	out, err := gen.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s: %v\n%s", strings.Join(gen.Args, " "), err, stderr)
	}
	p := filepath.Join(t.TempDir(), profile+".policy")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(policygenBin, append(append([]string{"check"}, target...), p)...)
	if b, err := check.CombinedOutput(); err != nil {
		t.Errorf("%s: %v\n%s", strings.Join(check.Args, " "), err, b)
	}
	return string(out)
}

// policyLines are the lines of a policy file as a loader writes them, one
// per write (comments and blank lines included).
func policyLines(policy string) []string {
	return strings.Split(strings.TrimSuffix(policy, "\n"), "\n")
}

// TestProfilesLoad: the output of every profile of "imaboot-policygen
// generate", generated for the version and configuration of each kernel,
// is accepted by that kernel. One boot per profile and kernel (in
// parallel): the kernel judges every line of the profile in three option
// variants, one session per line and nothing loaded (each line must be
// accepted, and "imaboot-policygen oracle" must agree with the kernel on
// all of them); then the default variant is written for real, rule by rule
// in one session, and the policy file must be gone after close (the kernel
// took the policy: it has no CONFIG_IMA_WRITE_POLICY).
func TestProfilesLoad(t *testing.T) {
	ob := buildOracle(t)
	// The profiles as the command lists them: the first word of each line.
	list, err := exec.Command(ob["imaboot-policygen"], "profiles").Output()
	if err != nil {
		t.Fatalf("imaboot-policygen profiles: %v", err)
	}
	var profiles []string
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			profiles = append(profiles, f[0])
		}
	}
	if len(profiles) < 5 || len(profiles) != len(policygen.Profiles()) {
		t.Fatalf("profiles: %v, want at least tcb, appraise_tcb, seed, attest and strict", profiles)
	}
	for _, profile := range profiles {
		profile := profile
		t.Run(profile, func(t *testing.T) {
			forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
				cfg := kernelConfig(t, k)
				s := fixture.OracleInitramfs{
					Init:  ob["oracleinit"],
					Files: map[string]string{guestPolicygen: ob["imaboot-policygen"], guestKernelCfg: cfg},
					Data:  map[string][]byte{},
				}
				var all []string
				load := ""
				for i, v := range profileVariants {
					policy := generateProfile(t, ob["imaboot-policygen"], profile, k, cfg, v.args)
					lines := policyLines(policy)
					s.Plan.Judge = append(s.Plan.Judge, fixture.OracleJudge{Name: v.name, Rules: lines})
					all = append(all, lines...)
					if i == 0 {
						load = guestProfilesDir + "/" + profile + ".policy"
						s.Data[load] = []byte(policy)
					}
				}
				corpus, err := json.Marshal(all)
				if err != nil {
					t.Fatal(err)
				}
				corpusPath := guestProfilesDir + "/all.json"
				s.Data[corpusPath] = corpus
				s.Plan.Runs = []fixture.OracleRun{{Name: "profiles", Args: []string{guestPolicygen, "oracle", "--kernel-config", guestKernelCfg, "--corpus", corpusPath}}}
				s.Plan.Load = load

				start := time.Now()
				m := oracleBoot(t, k, s)
				sum := parseOracle(t, m, "profiles")
				sum.check(t, profile+" profile lines", k, len(all))
				for _, u := range sum.uncertainties {
					t.Errorf("uncertain prediction on a generated rule: %s", u)
				}
				judged := 0
				for _, j := range s.Plan.Judge {
					sm := oracleExpect(t, m, fixture.OracleMarkerJudge+` `+j.Name+` rules=(\d+) accepted=(\d+) ms=\d+\n`, oracleWait)
					if sm[1] != strconv.Itoa(len(j.Rules)) || sm[2] != sm[1] {
						t.Errorf("%s %s on %s: the kernel judged %s rules and accepted %s, want all %d accepted", profile, j.Name, k.Release, sm[1], sm[2], len(j.Rules))
					}
					judged += len(j.Rules)
				}
				for _, l := range regexp.MustCompile(`(?m)^`+fixture.OracleMarkerJudgeNo+` .*$`).FindAllString(m.Console(), -1) {
					t.Errorf("%s on %s: %s", profile, k.Release, l)
				}
				oracleExpect(t, m, fixture.OracleMarkerPolicy+` present\n`, bootWait)
				lines := len(policyLines(string(s.Data[load])))
				sm := oracleExpect(t, m, fixture.OracleMarkerLoad+` rules=(\d+) accepted=(\d+) policy-file=(\w+)\n`, bootWait)
				if want := fmt.Sprint(lines); sm[1] != want || sm[2] != want || sm[3] != "absent" {
					t.Errorf("%s loaded on %s: %s; want all %d lines accepted and the policy file gone", profile, k.Release, strings.TrimSpace(sm[0]), lines)
				}
				for _, l := range regexp.MustCompile(`(?m)^`+fixture.OracleMarkerRefused+` .*$`).FindAllString(m.Console(), -1) {
					t.Errorf("%s on %s: %s", profile, k.Release, l)
				}
				poweredOff(t, m)
				// The kernel's own word (pr_info in ima_release_policy).
				if !strings.Contains(m.Console(), fixture.OracleMarkerKmsg+" ima: policy update completed\n") {
					t.Errorf("%s on %s: the kernel log after close does not say \"ima: policy update completed\"", profile, k.Release)
				}
				if t.Failed() {
					return
				}
				t.Logf("%s %s: %d lines judged in %d variants, all accepted, checker agrees; %d lines loaded in one session, policy file gone; boot %.1f s",
					profile, k.Release, judged, len(s.Plan.Judge), lines, time.Since(start).Seconds())
			})
		})
	}
}
