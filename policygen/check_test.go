package policygen

import (
	"os"
	"strings"
	"testing"
)

func loadConfig(t testing.TB, name string) *KernelConfig {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseKernelConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verdicts: for each rule, what the kernel sources of 6.1, 6.12 and 7.2
// (with Debian's cloud configuration for 6.1 and 6.12, and the 6.12 one
// for 7.2) say the kernel answers when the rule is written alone. "+"
// accept, "-" refuse. Each case names the kernel code that decides it.
var verdicts = []struct {
	rule           string
	v61, v612, v72 string
	code           string // code of the first error on the versions that refuse, if any
}{
	// Actions.
	{"measure", "+", "+", "+", ""},
	{"dont_audit", "-", "-", "+", CodeNewer},
	{"measure dont_measure", "-", "-", "-", CodeAction},
	{"func=BPRM_CHECK", "-", "-", "-", CodeAction},
	{"measure=1", "-", "-", "-", CodeValue},
	{"MEASURE", "-", "-", "-", CodeUnknown},
	// func values and aliases.
	{"measure func=FILE_MMAP mask=MAY_EXEC", "+", "+", "+", ""},
	{"measure func=PATH_CHECK", "+", "+", "+", ""},
	{"measure func=MMAP_CHECK_REQPROT", "-", "+", "+", CodeNewer},
	{"measure func=KEY_CHECK keyrings=.ima|_ima", "+", "+", "+", ""},
	{"measure func=BPRM_CHECK func=BPRM_CHECK", "-", "-", "-", CodeDuplicate},
	{"measure func=", "-", "-", "-", CodeValue},
	{"measure func=bprm_check", "-", "-", "-", CodeValue},
	// mask.
	{"measure func=FILE_CHECK mask=^MAY_READ", "+", "+", "+", ""},
	{"measure mask=MAY_READ mask=MAY_EXEC", "-", "-", "-", CodeDuplicate},
	{"measure mask=MAY_OPEN", "-", "-", "-", CodeValue},
	{"measure func=KEXEC_CMDLINE mask=MAY_EXEC", "-", "-", "-", CodeCombination},
	// fsmagic: kstrtoul base 16, "0x" optional, '+' allowed; 0 allows a second one.
	{"dont_measure fsmagic=0x9fa0", "+", "+", "+", ""},
	{"dont_measure fsmagic=9FA0", "+", "+", "+", ""},
	{"dont_measure fsmagic=+0x9fa0", "+", "+", "+", ""},
	{"dont_measure fsmagic=proc", "-", "-", "-", CodeValue},
	{"dont_measure fsmagic=0x", "-", "-", "-", CodeValue},
	{"dont_measure fsmagic=0x10000000000000000", "-", "-", "-", CodeValue},
	{"dont_measure fsmagic=0x9fa0 fsmagic=0x1cd1", "-", "-", "-", CodeDuplicate},
	{"dont_measure fsmagic=0 fsmagic=0x1cd1", "+", "+", "+", ""},
	// fsname: no duplicate check in any version read.
	{"dont_measure fsname=tmpfs fsname=proc", "+", "+", "+", ""},
	{"dont_measure fs_subtype=sshfs", "-", "-", "+", CodeNewer},
	// fsuuid: only the first 36 characters are read; a null UUID allows a second.
	{"measure fsuuid=3f7d2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6", "+", "+", "+", ""},
	{"measure fsuuid=3f7d2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6junk", "+", "+", "+", ""},
	{"measure fsuuid=3f7d2a4e1b2c4d5e8f90a1b2c3d4e5f6", "-", "-", "-", CodeValue},
	{"measure fsuuid=00000000-0000-0000-0000-000000000000 fsuuid=3f7d2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6", "+", "+", "+", ""},
	// ids: decimal only, uid and euid share one slot, (uid_t)-1 refused.
	{"measure uid=0", "+", "+", "+", ""},
	{"measure uid<1000", "+", "+", "+", ""},
	{"measure euid>999", "+", "+", "+", ""},
	{"measure uid=0x10", "-", "-", "-", CodeValue},
	{"measure uid=-1", "-", "-", "-", CodeValue},
	{"measure uid=4294967295", "-", "-", "-", CodeValue},
	{"measure uid=4294967294", "+", "+", "+", ""},
	{"measure uid=0 euid=0", "-", "-", "-", CodeDuplicate},
	{"measure uid>=5", "-", "-", "-", CodeValue},
	{"measure fsmagic>5", "-", "-", "-", CodeValue},
	{"appraise fowner=0 fgroup=0", "+", "+", "+", ""},
	// pcr: kstrtoint, 0..63, only measure, no duplicate check.
	{"measure pcr=11", "+", "+", "+", ""},
	{"measure pcr=64", "-", "-", "-", CodeValue},
	{"measure pcr=-0", "+", "+", "+", ""},
	{"measure pcr=10 pcr=11", "+", "+", "+", ""},
	{"appraise pcr=11", "-", "-", "-", CodeCombination},
	// template: after measure only, by name or format.
	{"measure template=ima-sig", "+", "+", "+", ""},
	{"measure template=d-ng|n-ng", "+", "+", "+", ""},
	{"template=ima-sig measure", "-", "-", "-", CodeOrder},
	{"measure template=ima-foo", "-", "-", "-", CodeValue},
	{"measure template=ima-ng template=ima-sig", "-", "-", "-", CodeDuplicate},
	{"dont_measure template=ima-ng", "-", "-", "-", CodeCombination},
	// appraise_type and friends.
	{"appraise func=BPRM_CHECK appraise_type=imasig", "+", "+", "+", ""},
	{"measure appraise_type=imasig", "-", "-", "-", CodeCombination},
	{"appraise func=MODULE_CHECK appraise_type=imasig|modsig", "-", "-", "-", CodeConfig},
	{"appraise func=BPRM_CHECK appraise_type=sigv3", "-", "-", "+", CodeCombination},
	{"appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3", "+", "+", "+", ""},
	{"appraise func=BPRM_CHECK appraise_type=sigv3 digest_type=verity", "-", "-", "+", CodeOrder},
	{"appraise func=BPRM_CHECK appraise_type=imasig digest_type=verity", "-", "-", "+", CodeOrder},
	{"appraise func=BPRM_CHECK digest_type=verity", "-", "-", "-", CodeCombination},
	{"measure func=BPRM_CHECK digest_type=verity", "+", "+", "+", ""},
	{"appraise func=MODULE_CHECK digest_type=verity appraise_type=sigv3", "-", "-", "-", CodeCombination},
	{"appraise func=MODULE_CHECK appraise_type=sigv3", "-", "-", "+", CodeCombination},
	{"appraise func=BPRM_CHECK appraise_type=foo", "-", "-", "-", CodeValue},
	{"appraise func=MODULE_CHECK appraise_flag=check_blacklist", "-", "+", "+", CodeConfig},
	// appraise_algos: names of hash_algo_name, available per configuration.
	{"appraise func=BPRM_CHECK appraise_algos=sha256", "+", "+", "+", ""},
	{"appraise func=BPRM_CHECK appraise_algos=sha256,sha512", "-", "+", "+", ""},
	{"appraise func=BPRM_CHECK appraise_algos=sha3-256", "-", "+", "+", CodeValue},
	{"appraise func=BPRM_CHECK appraise_algos=rmd128", "-", "-", "-", CodeValue},
	{"appraise func=BPRM_CHECK appraise_algos=sm3", "-", "-", "-", CodeConfig},
	{"appraise func=BPRM_CHECK appraise_algos=sha256,", "-", "-", "-", CodeValue},
	{"appraise func=BPRM_CHECK appraise_algos=sha256 appraise_algos=sha1", "-", "-", "-", CodeDuplicate},
	{"measure appraise_algos=sha256", "-", "-", "-", CodeCombination},
	{"appraise func=SETXATTR_CHECK appraise_algos=sha256", "+", "+", "+", ""},
	{"appraise func=SETXATTR_CHECK", "-", "-", "-", CodeCombination},
	{"appraise func=SETXATTR_CHECK appraise_algos=sha256 fowner=0", "-", "-", "-", CodeCombination},
	{"measure func=SETXATTR_CHECK appraise_algos=sha256", "-", "-", "-", CodeCombination},
	// Hook-specific rules.
	{"appraise func=KEY_CHECK", "-", "-", "-", CodeCombination},
	{"measure func=KEY_CHECK fowner=0", "-", "-", "-", CodeCombination},
	{"measure keyrings=.ima", "-", "-", "-", CodeCombination},
	{"measure func=KEY_CHECK keyrings=.ima||_ima", "-", "-", "-", CodeValue},
	{"measure func=CRITICAL_DATA label=selinux", "+", "+", "+", ""},
	{"measure func=CRITICAL_DATA label=selinux subj_role=x", "-", "-", "-", CodeCombination},
	{"measure func=KEXEC_CMDLINE pcr=12", "+", "+", "+", ""},
	{"appraise func=KEXEC_CMDLINE", "-", "-", "-", CodeCombination},
	{"appraise func=BPRM_CHECK permit_directio", "+", "+", "+", ""},
	{"appraise func=BPRM_CHECK permit_directio=1", "-", "-", "-", CodeValue},
	// LSM conditions with AppArmor active and no custom policy loaded.
	{"measure subj_role=unconfined", "+", "+", "+", ""},
	{"measure obj_type=bin_t", "-", "-", "-", CodeLSM},
	{"measure subj_role=a subj_role=b", "-", "-", "-", CodeDuplicate},
	// Comments, whitespace, CR, paths.
	{"measure func=BPRM_CHECK # exec", "-", "-", "+", CodeComment},
	{"measure func=BPRM_CHECK#exec", "-", "-", "-", CodeValue},
	{"measure func=BPRM_CHECK\r", "-", "-", "-", CodeValue},
	{"  measure\tfunc=BPRM_CHECK  ", "+", "+", "+", ""},
	{"/etc/ima/policy", "-", "-", "-", CodePath},
}

func TestVerdicts(t *testing.T) {
	cfg61 := loadConfig(t, "config-6.1-debian-cloud")
	cfg612 := loadConfig(t, "config-6.12-debian-cloud")
	targets := []struct {
		v    KernelVersion
		cfg  *KernelConfig
		pick func(i int) string
	}{
		{Kernel61, cfg61, func(i int) string { return verdicts[i].v61 }},
		{Kernel612, cfg612, func(i int) string { return verdicts[i].v612 }},
		{Kernel72, cfg612, func(i int) string { return verdicts[i].v72 }},
	}
	for i, c := range verdicts {
		for _, tg := range targets {
			want := tg.pick(i) == "+"
			p := Predict(c.rule, tg.v, tg.cfg)
			if p.Accept != want {
				t.Errorf("Linux %s, %q: predicted accept=%v (%s), kernel source says %v", tg.v, c.rule, p.Accept, p.Reason, want)
				continue
			}
			if want || c.code == "" {
				continue
			}
			tokens, comment := splitLine(c.rule)
			if len(tokens) == 0 || strings.HasPrefix(c.rule, "/") {
				continue
			}
			_, found := emulate(tokens, comment, tg.v, tg.cfg)
			if code := firstErrorCode(found); code != c.code && code != CodeConfig && code != CodeNewer {
				t.Errorf("Linux %s, %q: error code %q, want %q (%v)", tg.v, c.rule, code, c.code, found)
			}
		}
	}
}

func firstErrorCode(found []finding) string {
	for _, f := range found {
		if f.severity == Error {
			return f.code
		}
	}
	return ""
}

func TestCheckPositionsAndWarnings(t *testing.T) {
	src := "# seed\n" +
		"measure func=FILE_MMAP mask=MAY_EXEC\n" +
		"\n" +
		"measure func=FILE_CHECK mask=MAY_READ uid=0\n" +
		"appraise func=BPRM_CHECK fowner=0 appraise_type=imasig\n" +
		"dont_appraise func=BPRM_CHECK fsmagic=0x9fa0 fowner=0\n" +
		"measure  func=BPRM_CHECK fsmagic=zz\n"
	diags := CheckPolicy("p", []byte(src), Kernel612, loadConfig(t, "config-6.12-debian-cloud"))
	want := map[string]string{
		CodeAlias:         "p:2:9: warning:",
		CodeMaskRead:      "p:4:25: warning:",
		CodeInitramfs:     "p:5:1: warning:",
		CodeBypassLimited: "p:5:26: warning:",
		CodeShadowed:      "p:6: warning:",
		CodeValue:         "p:7:34: error:",
	}
	got := map[string]string{}
	for _, d := range diags {
		got[d.Code] = d.String()
	}
	for code, prefix := range want {
		if !strings.HasPrefix(got[code], prefix) {
			t.Errorf("code %s: got %q, want prefix %q", code, got[code], prefix)
		}
	}
	if !HasErrors(diags) {
		t.Error("HasErrors = false for a policy with a bad fsmagic")
	}
}

func TestReadPolicy(t *testing.T) {
	src := "measure func=BPRM_CHECK\r\n  # indented comment\r\n\t\nappraise func=BPRM_CHECK  appraise_type=imasig # why\nbad\x00rule\nlast"
	rules, diags := ReadPolicy("f", []byte(src))
	if len(diags) != 3 || diags[0].Code != CodeCRLF || diags[0].Line != 1 || diags[0].Column != 24 || diags[0].Severity != Error ||
		diags[1].Code != CodeCRLF || diags[1].Line != 2 || diags[1].Severity != Warning || diags[2].Code != CodeNUL || diags[2].Line != 5 {
		t.Fatalf("diags = %v", diags)
	}
	if len(rules) != 2 {
		t.Fatalf("rules = %+v", rules)
	}
	if got := rules[0].Canonical(); got != "appraise func=BPRM_CHECK appraise_type=imasig" {
		t.Errorf("canonical = %q", got)
	}
	if rules[0].Line != 4 || rules[0].Comment == nil || rules[0].Comment.Text != "# why" || rules[0].Comment.Column != 48 {
		t.Errorf("rule 0 = %+v comment %+v", rules[0], rules[0].Comment)
	}
	if rules[1].Line != 6 || rules[1].Canonical() != "last" {
		t.Errorf("rule 1 = %+v", rules[1])
	}
}

func TestLengthLimit(t *testing.T) {
	ok := "measure fsname=" + strings.Repeat("a", MaxRuleLength-len("measure fsname="))
	if d := CheckPolicy("l", []byte(ok+"\n"), Kernel612, nil); HasErrors(d) {
		t.Errorf("rule of exactly %d bytes refused: %v", len(ok), d)
	}
	long := ok + "a"
	d := CheckPolicy("l", []byte(long+"\n"), Kernel612, nil)
	if !HasErrors(d) || d[0].Code != CodeLength {
		t.Errorf("rule of %d bytes: %v", len(long), d)
	}
	if Predict(ok, Kernel612, nil).Accept != true || Predict(long, Kernel612, nil).Accept != false {
		t.Error("Predict disagrees with the length limit")
	}
}

func TestEmptyPolicy(t *testing.T) {
	d := CheckPolicy("e", []byte("# nothing\n\n"), Kernel61, nil)
	if len(d) != 1 || d[0].Code != CodeEmpty || d[0].Severity != Warning || d[0].File != "e" {
		t.Errorf("diags = %v", d)
	}
}

func TestUnknownConfigIsUncertain(t *testing.T) {
	p := Predict("appraise func=BPRM_CHECK appraise_algos=sha512", Kernel61, nil)
	if !p.Accept || p.Certain {
		t.Errorf("without a config, sha512 should be accepted but uncertain: %+v", p)
	}
	p = Predict("measure obj_type=x", Kernel61, nil)
	if !p.Accept || p.Certain {
		t.Errorf("without an LSM, obj_type should be accepted but uncertain: %+v", p)
	}
	p = Predict("measure obj_type=x", Kernel61, &KernelConfig{Symbols: map[string]string{"IMA": "y"}, ActiveLSM: "none"})
	if p.Accept {
		t.Errorf("with no LSM, obj_type should be refused: %+v", p)
	}
	p = Predict("measure subj_role=x", Kernel61, &KernelConfig{Symbols: map[string]string{"IMA_LSM_RULES": "n"}, ActiveLSM: "apparmor"})
	if p.Accept {
		t.Errorf("without IMA_LSM_RULES, subj_role should be refused: %+v", p)
	}
}

func TestParseKernelVersion(t *testing.T) {
	for in, want := range map[string]KernelVersion{
		"6.1.0-56-cloud-amd64":      {6, 1, 0},
		"6.12.48+deb13-cloud-amd64": {6, 12, 48},
		"7.2":                       {7, 2, 0},
		"v6.14.3":                   {6, 14, 3},
		"latest":                    NewestKnown,
	} {
		got, err := ParseKernelVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseKernelVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "six", "6", "x6.1"} {
		if _, err := ParseKernelVersion(bad); err == nil {
			t.Errorf("ParseKernelVersion(%q) accepted", bad)
		}
	}
}

func TestParseKernelConfig(t *testing.T) {
	c := loadConfig(t, "config-6.1-debian-cloud")
	for sym, want := range map[string]string{"IMA": "y", "IMA_APPRAISE_MODSIG": "n", "CRYPTO_SHA512": "m", "IMA_DEFAULT_HASH": "sha256", "NOT_A_SYMBOL": "n"} {
		if got := c.State(sym); got != want {
			t.Errorf("State(%s) = %q, want %q", sym, got, want)
		}
	}
	if c.ActiveLSM != "apparmor" {
		t.Errorf("ActiveLSM = %q, want apparmor", c.ActiveLSM)
	}
	if _, err := ParseKernelConfig(strings.NewReader("hello\n")); err == nil {
		t.Error("a file without CONFIG_ lines was accepted")
	}
	if got := ActiveLSMFromList("lockdown,capability,landlock,yama,apparmor,ima,evm"); got != "apparmor" {
		t.Errorf("ActiveLSMFromList = %q", got)
	}
}

// Debian's 7.2 kernel builds sha3 as a module and sha512 in: seen refused
// and accepted in a VM (docs/imaboot-policygen.md).
func TestDebian72Config(t *testing.T) {
	cfg := loadConfig(t, "config-7.2-debian-cloud")
	for rule, want := range map[string]bool{
		"appraise func=BPRM_CHECK appraise_algos=sha3-256":                false,
		"appraise func=BPRM_CHECK appraise_algos=sha512":                  true,
		"dont_audit func=BPRM_CHECK":                                      true,
		"measure func=BPRM_CHECK # comment":                               true,
		"appraise func=BPRM_CHECK appraise_type=sigv3 digest_type=verity": true,
	} {
		if p := Predict(rule, Kernel72, cfg); p.Accept != want || !p.Certain {
			t.Errorf("%q on 7.2: %+v, want accept=%v", rule, p, want)
		}
	}
}

// Words that set several flags at once (appraise_type=imasig sets the
// signature and blacklist flags from 6.6) must not move other positions.
func TestColumnsOfMultiFlagWords(t *testing.T) {
	d := CheckPolicy("c", []byte("measure appraise_type=imasig\nappraise func=FILE_MMAP appraise_type=imasig\n"), Kernel612, nil)
	want := map[string]string{
		CodeCombination: "c:1:9: error: appraise_type=imasig is allowed only with appraise, not measure",
		CodeAlias:       "c:2:10: warning: func=FILE_MMAP is an old alias",
	}
	for _, diag := range d {
		if w, ok := want[diag.Code]; ok {
			if !strings.HasPrefix(diag.String(), w) {
				t.Errorf("got %q, want prefix %q", diag, w)
			}
			delete(want, diag.Code)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing diagnostics %v in %v", want, d)
	}
}
