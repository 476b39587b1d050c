package securityfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// The seed policy of the mission.
var seedPolicy = []string{
	"dont_measure fsmagic=0x9660",
	"dont_appraise fsmagic=0x9660",
	"dont_measure fsmagic=0x27e0eb",
	"dont_appraise fsmagic=0x27e0eb",
	"dont_appraise fsmagic=0x4d44",
	"measure func=BPRM_CHECK",
	"measure func=FILE_MMAP mask=MAY_EXEC",
	"measure func=FILE_CHECK mask=MAY_READ uid=0",
	"appraise func=BPRM_CHECK fowner=0 appraise_type=imasig",
	"appraise func=MMAP_CHECK fowner=0 appraise_type=imasig",
	"hash fowner=0",
}

func writesOf(rules ...string) []string {
	var ev []string
	for _, r := range rules {
		ev = append(ev, "write "+r+"\n")
	}
	return ev
}

func TestLoadPolicyOneRulePerWriteThenConfirms(t *testing.T) {
	k := newFakeKernel(t)
	fs := k.fs()
	res, err := LoadPolicy(fs, seedPolicy, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{"open"}, writesOf(seedPolicy...)...), "close")
	if got := k.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel saw\n%q\nwant\n%q", got, want)
	}
	if len(k.loaded) != 1 || !reflect.DeepEqual(k.loaded[0], seedPolicy) {
		t.Errorf("kernel loaded %q", k.loaded)
	}
	if res.Mode != "rules" || res.Rules != len(seedPolicy) || res.Confirmed != "the kernel removed the policy file" {
		t.Errorf("result %+v", res)
	}
	// The rate limit is raised only to retell a refusal, never on the
	// way to a good load.
	if b, _ := os.ReadFile(fs.PrintkBurst); k.burstSeen != "10" || string(b) != "10\n" {
		t.Errorf("printk burst %q during the session, %q after, want 10 both", k.burstSeen, b)
	}
	if !strings.Contains(res.Summary(), "11 rules") {
		t.Errorf("summary %q", res.Summary())
	}
	if state, _, _ := PolicyState(fs); state != markLoaded {
		t.Errorf("marker state %q, want loaded", state)
	}

	// Never twice per boot, even where the file stays (IMA_WRITE_POLICY).
	os.WriteFile(k.policyPath(), nil, 0o200)
	_, err = LoadPolicy(fs, seedPolicy, PolicyOptions{})
	var aw *AlreadyWrittenError
	if !errors.As(err, &aw) || aw.State != markLoaded {
		t.Fatalf("second load: %v, want AlreadyWrittenError", err)
	}
	if n := len(k.Events()); n != len(want) {
		t.Errorf("second load reached the kernel: %q", k.Events()[len(want):])
	}
}

func TestLoadPolicyRefusedRuleAbortsBeforeClose(t *testing.T) {
	k := newFakeKernel(t)
	fs := k.fs()
	rules := []string{seedPolicy[0], seedPolicy[5], "appraise func=BOGUS_CHECK", seedPolicy[8]}
	_, err := LoadPolicy(fs, rules, PolicyOptions{})
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want a *RuleError", err)
	}
	if re.Index != 2 || re.Rule != rules[2] || re.Errno != unix.EINVAL || !errors.Is(err, unix.EINVAL) {
		t.Errorf("RuleError %+v", re)
	}
	// The abort rule goes in before close: close commits otherwise.
	want := append(append([]string{"open"}, writesOf(rules[:3]...)...), "write "+abortRule+"\n", "close")
	if got := k.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel saw\n%q\nwant\n%q", got, want)
	}
	if len(k.loaded) != 0 {
		t.Errorf("kernel loaded %q after a refused rule", k.loaded)
	}
	msg := err.Error()
	for _, w := range []string{"rule 3", `"appraise func=BOGUS_CHECK"`, "EINVAL", "type=1807", "func=BOGUS_CHECK UNKNOWN=func res=0", "nothing loaded"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
	if strings.Contains(re.Reason(), abortRule) {
		t.Errorf("reason blames the abort rule: %q", re.Reason())
	}
	if _, err := os.Stat(k.policyPath()); err != nil {
		t.Errorf("policy file gone after an aborted session: %v", err)
	}
	if state, _, _ := PolicyState(fs); state != markAborted {
		t.Errorf("marker %q, want aborted", state)
	}

	// Nothing was loaded, so a corrected policy may still go in.
	if _, err := LoadPolicy(fs, seedPolicy, PolicyOptions{}); err != nil {
		t.Fatalf("load after an aborted session: %v", err)
	}
	if len(k.loaded) != 1 {
		t.Errorf("loaded %q", k.loaded)
	}
}

// TestLoadPolicyRetellsARateLimitedRefusal: behind more accepted rules
// than printk's burst, the refused rule's audit record is dropped; the rule
// is written again alone, with the burst raised, in a second aborted
// session, so the error still carries the kernel's reason.
func TestLoadPolicyRetellsARateLimitedRefusal(t *testing.T) {
	k := newFakeKernel(t)
	fs := k.fs()
	var rules []string
	for i := 0; i < 12; i++ {
		rules = append(rules, fmt.Sprintf("dont_appraise fsmagic=0x%x", 0x1000+i))
	}
	rules = append(rules, "appraise func=BOGUS_CHECK")
	_, err := LoadPolicy(fs, rules, PolicyOptions{})
	var re *RuleError
	if !errors.As(err, &re) || re.Index != 12 {
		t.Fatalf("error %v, want a *RuleError for rule 13", err)
	}
	if !strings.Contains(re.Reason(), "func=BOGUS_CHECK UNKNOWN=func res=0") {
		t.Errorf("reason %q lacks the retold audit record; error %v", re.Reason(), err)
	}
	want := append(append([]string{"open"}, writesOf(rules...)...), "write "+abortRule+"\n", "close",
		"open", "write "+rules[12]+"\n", "write "+abortRule+"\n", "close")
	if got := k.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel saw\n%q\nwant\n%q", got, want)
	}
	if k.burstSeen != "59" {
		t.Errorf("printk burst during the retelling %q, want 59 (3 per rule up to the refused one + 20)", k.burstSeen)
	}
	if b, _ := os.ReadFile(fs.PrintkBurst); string(b) != "10\n" {
		t.Errorf("printk burst not restored: %q", b)
	}
	if len(k.loaded) != 0 {
		t.Errorf("kernel loaded %q", k.loaded)
	}
	if state, _, _ := PolicyState(fs); state != markAborted {
		t.Errorf("marker %q, want aborted", state)
	}
}

func TestLoadPolicyAcceptsOneByteMore(t *testing.T) {
	k := newFakeKernel(t)
	k.extra = 1 // what a rule without "\n" gets; os.File.Write panics on it
	if _, err := LoadPolicy(k.fs(), seedPolicy[:3], PolicyOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(k.loaded) != 1 || len(k.loaded[0]) != 3 {
		t.Errorf("loaded %q", k.loaded)
	}
}

func TestLoadPolicyShortWriteAborts(t *testing.T) {
	k := newFakeKernel(t)
	k.shortAt = 1
	_, err := LoadPolicy(k.fs(), seedPolicy[:4], PolicyOptions{})
	var re *RuleError
	if !errors.As(err, &re) || re.Index != 1 || re.Errno != 0 || re.Wrote != (len(seedPolicy[1])+1)/2 {
		t.Fatalf("error %v (%+v), want a short write at rule 2", err, re)
	}
	if !strings.Contains(err.Error(), "short write") || len(k.loaded) != 0 {
		t.Errorf("error %q, loaded %q", err, k.loaded)
	}
	if ev := k.Events(); ev[len(ev)-2] != "write "+abortRule+"\n" {
		t.Errorf("no abort before close: %q", ev)
	}
}

func TestLoadPolicyBusy(t *testing.T) {
	k := newFakeKernel(t)
	k.busy = true
	fs := k.fs()
	_, err := LoadPolicy(fs, seedPolicy, PolicyOptions{})
	if !errors.Is(err, unix.EBUSY) || !strings.Contains(err.Error(), "another process has the policy file open") || !strings.Contains(err.Error(), "EBUSY") {
		t.Fatalf("error %v, want EBUSY explained", err)
	}
	if state, _, _ := PolicyState(fs); state != "" {
		t.Errorf("marker %q left although nothing was written", state)
	}
	k.busy = false
	if _, err := LoadPolicy(fs, seedPolicy, PolicyOptions{}); err != nil {
		t.Errorf("retry once the other writer is gone: %v", err)
	}
}

func TestLoadPolicySignedFallbackOnEACCES(t *testing.T) {
	k := newFakeKernel(t)
	k.requireSigned = true
	policyFile := filepath.Join(t.TempDir(), "ima-policy")
	os.WriteFile(policyFile, []byte(strings.Join(seedPolicy, "\n")+"\n"), 0o644)

	res, err := LoadPolicy(k.fs(), seedPolicy, PolicyOptions{Path: policyFile})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"open", "write " + seedPolicy[0] + "\n", "write " + abortRule + "\n", "close",
		"open", "write " + policyFile + "\n", "close"}
	if got := k.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel saw\n%q\nwant\n%q", got, want)
	}
	if res.Mode != "signed" || !strings.Contains(res.SignedWhy, "EACCES") || len(k.loaded) != 1 || !reflect.DeepEqual(k.loaded[0], seedPolicy) {
		t.Errorf("result %+v, loaded %q", res, k.loaded)
	}
}

// Newer kernels in log/fix appraise mode answer 0 to every rule when a
// signed policy is required, and keep the session valid: the abort must
// still make close load nothing, then the signed path goes in.
func TestLoadPolicyIgnoredRulesAbortWithPath(t *testing.T) {
	k := newFakeKernel(t)
	k.ignoreRules = true
	fs := k.fs()
	_, err := LoadPolicy(fs, seedPolicy, PolicyOptions{})
	var re *RuleError
	if !errors.As(err, &re) || re.Wrote != 0 || re.Abort != "" || !strings.Contains(err.Error(), "requires a signed policy") {
		t.Fatalf("error %v (%+v)", err, re)
	}
	want := []string{"open", "write " + seedPolicy[0] + "\n", "write " + abortRule + "\n", "write " + abortPath + "\n", "close"}
	if got := k.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel saw\n%q\nwant\n%q", got, want)
	}
	if len(k.loaded) != 0 {
		t.Errorf("an ignored-rules session committed %q", k.loaded)
	}

	policyFile := filepath.Join(t.TempDir(), "ima-policy")
	os.WriteFile(policyFile, []byte(strings.Join(seedPolicy, "\n")+"\n"), 0o644)
	res, err := LoadPolicy(fs, seedPolicy, PolicyOptions{Path: policyFile})
	if err != nil || res.Mode != "signed" || len(k.loaded) != 1 {
		t.Fatalf("%+v, %v, loaded %q", res, err, k.loaded)
	}
}

func TestLoadPolicySignedPathMissing(t *testing.T) {
	k := newFakeKernel(t)
	fs := k.fs()
	missing := filepath.Join(t.TempDir(), "no-such-policy")
	_, err := LoadPolicy(fs, seedPolicy, PolicyOptions{Path: missing, Signed: true})
	var re *RuleError
	if !errors.As(err, &re) || !re.Signed || re.Errno != unix.ENOENT {
		t.Fatalf("error %v, want ENOENT for the signed path", err)
	}
	for _, w := range []string{missing, "cannot open that path", "Unable to open file", "nothing loaded"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if len(k.loaded) != 0 {
		t.Errorf("loaded %q", k.loaded)
	}
}

func TestLoadPolicySignedRequiredWithoutPath(t *testing.T) {
	k := newFakeKernel(t)
	k.requireSigned = true
	_, err := LoadPolicy(k.fs(), seedPolicy, PolicyOptions{})
	var re *RuleError
	if !errors.As(err, &re) || re.Errno != unix.EACCES || re.Index != 0 {
		t.Fatalf("error %v, want EACCES on rule 1", err)
	}
	for _, w := range []string{"EACCES", "requires a signed policy", "signed policy required", "nothing loaded"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if len(k.loaded) != 0 {
		t.Errorf("loaded %q", k.loaded)
	}
}

func TestLoadPolicySignedModeChosenUpFront(t *testing.T) {
	policyFile := filepath.Join(t.TempDir(), "ima-policy")
	withCheck := append([]string{"appraise func=POLICY_CHECK appraise_type=imasig"}, seedPolicy...)
	os.WriteFile(policyFile, []byte(strings.Join(withCheck, "\n")+"\n"), 0o644)

	t.Run("POLICY_CHECK rule", func(t *testing.T) {
		k := newFakeKernel(t)
		res, err := LoadPolicy(k.fs(), withCheck, PolicyOptions{Path: policyFile})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"open", "write " + policyFile + "\n", "close"}; !reflect.DeepEqual(k.Events(), want) {
			t.Errorf("kernel saw %q, want %q", k.Events(), want)
		}
		if !strings.Contains(res.SignedWhy, "POLICY_CHECK") {
			t.Errorf("why %q", res.SignedWhy)
		}
	})
	t.Run("secure_boot on the command line", func(t *testing.T) {
		k := newFakeKernel(t)
		fs := k.fs()
		os.WriteFile(fs.Cmdline, []byte(`console=ttyS0 ima_policy="tcb|secure_boot" quiet`+"\n"), 0o644)
		res, err := LoadPolicy(fs, seedPolicy, PolicyOptions{Path: policyFile})
		if err != nil || res.Mode != "signed" || !strings.Contains(res.SignedWhy, "secure_boot") {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("no path", func(t *testing.T) {
		k := newFakeKernel(t)
		_, err := LoadPolicy(k.fs(), withCheck, PolicyOptions{Path: "relative/ima-policy"})
		if err == nil || !strings.Contains(err.Error(), "absolute path") || len(k.Events()) != 0 {
			t.Fatalf("error %v, events %q", err, k.Events())
		}
	})
}

func TestLoadPolicyConfirmation(t *testing.T) {
	t.Run("read-only after load", func(t *testing.T) {
		k := newFakeKernel(t)
		k.onLoad = onLoadReadOnly
		res, err := LoadPolicy(k.fs(), seedPolicy, PolicyOptions{})
		if err != nil || res.Confirmed != "the policy file is no longer writable" {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("kernel log only", func(t *testing.T) {
		k := newFakeKernel(t)
		k.onLoad = onLoadKeep
		// IMA_WRITE_POLICY without READ_POLICY: the file stays writable
		// and cannot be read back (a directory stands in, unreadable
		// even for root).
		os.Remove(k.policyPath())
		os.Mkdir(k.policyPath(), 0o755)
		res, err := LoadPolicy(k.fs(), seedPolicy, PolicyOptions{})
		if err != nil || !strings.Contains(res.Confirmed, "policy update completed") {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("refused at close", func(t *testing.T) {
		k := newFakeKernel(t)
		k.failAtClose = true
		fs := k.fs()
		_, err := LoadPolicy(fs, seedPolicy, PolicyOptions{})
		var nl *NotLoadedError
		if !errors.As(err, &nl) || !strings.Contains(err.Error(), "policy update failed") {
			t.Fatalf("error %v, want NotLoadedError", err)
		}
		if state, _, _ := PolicyState(fs); state != markWriting {
			t.Errorf("marker %q: an unconfirmed load must block a retry", state)
		}
	})
	t.Run("gone before", func(t *testing.T) {
		k := newFakeKernel(t)
		os.Remove(k.policyPath())
		_, err := LoadPolicy(k.fs(), seedPolicy, PolicyOptions{})
		if err == nil || !strings.Contains(err.Error(), "already loaded this boot") || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("error %v", err)
		}
		os.Remove(filepath.Join(k.root, "ima"))
		_, err = LoadPolicy(k.fs(), seedPolicy, PolicyOptions{})
		if err == nil || !strings.Contains(err.Error(), "kernel has no IMA") {
			t.Fatalf("error %v", err)
		}
	})
}

// The default writer on a regular file: write(2) per rule, and the file
// reads back as the rules (what an IMA_READ_POLICY kernel shows).
func TestLoadPolicyDefaultWriterRealFile(t *testing.T) {
	k := newFakeKernel(t)
	os.WriteFile(k.policyPath(), nil, 0o600)
	fs := k.fs()
	fs.OpenWriter = nil
	res, err := LoadPolicy(fs, seedPolicy, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(k.policyPath())
	if string(data) != strings.Join(seedPolicy, "\n")+"\n" {
		t.Errorf("file holds %q", data)
	}
	if res.Confirmed != "the policy reads back" {
		t.Errorf("confirmed %q", res.Confirmed)
	}
}

func TestPolicyTailDiffers(t *testing.T) {
	kernel := "measure func=BPRM_CHECK\nappraise func=BPRM_CHECK fowner=0 appraise_type=imasig \n"
	if why := policyTailDiffers("dont_measure fsmagic=0x9660\n"+kernel, []string{"measure func=BPRM_CHECK", "appraise fowner=0 func=BPRM_CHECK appraise_type=imasig"}); why != "" {
		t.Errorf("same rules differ: %s", why)
	}
	if why := policyTailDiffers(kernel, []string{"measure func=BPRM_CHECK", "appraise func=BPRM_CHECK fowner=1"}); !strings.Contains(why, "rule 2") {
		t.Errorf("different rules: %q", why)
	}
}

func TestCheckRuleLines(t *testing.T) {
	for _, tc := range []struct {
		rules []string
		want  string
	}{
		{nil, "no rules"},
		{[]string{"measure func=BPRM_CHECK", " "}, "rule 2 is empty"},
		{[]string{"measure func=BPRM_CHECK\r"}, "CR"},
		{[]string{"measure func=BPRM_CHECK\nhash"}, "line break"},
		{[]string{"# comment"}, "comment"},
		{[]string{"measure " + strings.Repeat("x", 5000)}, "at most"},
	} {
		err := checkRuleLines(tc.rules)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.rules, err, tc.want)
		}
	}
	if err := checkRuleLines(seedPolicy); err != nil {
		t.Error(err)
	}
}

// TestLoadPolicyLeadRules: the caller's own rules go in first, in the same
// session; the result and a refusal count the policy's rules apart from
// them; in signed mode they cannot be written and the result says so.
func TestLoadPolicyLeadRules(t *testing.T) {
	lead := []string{"appraise func=BPRM_CHECK fsmagic=0x1021994 fowner=3221225472 appraise_type=imasig"}
	k := newFakeKernel(t)
	res, err := LoadPolicy(k.fs(), seedPolicy, PolicyOptions{Lead: lead})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{"open"}, writesOf(append(lead, seedPolicy...)...)...), "close")
	if got := k.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("kernel saw\n%q\nwant\n%q", got, want)
	}
	if res.Rules != len(seedPolicy) || res.Lead != 1 || !strings.Contains(res.Summary(), "11 rules (after 1 of imaboot's own)") {
		t.Errorf("result %+v: %s", res, res.Summary())
	}

	// A refused policy rule is numbered within the policy.
	k = newFakeKernel(t)
	_, err = LoadPolicy(k.fs(), []string{seedPolicy[0], "appraise func=BOGUS_CHECK"}, PolicyOptions{Lead: lead})
	var re *RuleError
	if !errors.As(err, &re) || re.Index != 1 || re.Lead || !strings.Contains(err.Error(), "rule 2 ") {
		t.Errorf("refused policy rule: %v (%+v)", err, re)
	}
	// A refused lead rule says whose it is.
	k = newFakeKernel(t)
	_, err = LoadPolicy(k.fs(), seedPolicy, PolicyOptions{Lead: []string{"appraise func=BOGUS_CHECK"}})
	if !errors.As(err, &re) || !re.Lead || !strings.Contains(err.Error(), "imaboot's own rule") {
		t.Errorf("refused lead rule: %v", err)
	}
	if len(k.loaded) != 0 {
		t.Errorf("loaded %q", k.loaded)
	}

	// Signed mode (the kernel refuses the first write): only the path.
	k = newFakeKernel(t)
	k.requireSigned = true
	policyFile := filepath.Join(t.TempDir(), "ima-policy")
	os.WriteFile(policyFile, []byte(strings.Join(seedPolicy, "\n")+"\n"), 0o644)
	res, err = LoadPolicy(k.fs(), seedPolicy, PolicyOptions{Path: policyFile, Lead: lead})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "signed" || res.Lead != 0 || !reflect.DeepEqual(k.loaded, [][]string{seedPolicy}) {
		t.Errorf("signed: %+v, loaded %q", res, k.loaded)
	}
}
