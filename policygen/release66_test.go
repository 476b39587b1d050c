package policygen

import (
	"sort"
	"strings"
	"testing"
)

// What linux-6.6.y at 6.6.57 (security/integrity/ima/ima_policy.c,
// crypto/hash_info.c) has, read from its source: the tables resolved for
// Kernel66 must list exactly this.
var (
	// policy_tokens, keyed by the word before the operator.
	source66Words = []string{"measure", "dont_measure", "appraise", "dont_appraise", "audit", "hash", "dont_hash",
		"obj_user", "obj_role", "obj_type", "subj_user", "subj_role", "subj_type",
		"func", "mask", "fsmagic", "fsname", "fsuuid", "uid", "euid", "gid", "egid", "fowner", "fgroup",
		"digest_type", "appraise_type", "appraise_flag", "appraise_algos", "permit_directio", "pcr", "template",
		"keyrings", "label"}
	// The strcmp chain of Opt_func.
	source66Funcs = []string{"FILE_CHECK", "PATH_CHECK", "MODULE_CHECK", "FIRMWARE_CHECK", "FILE_MMAP", "MMAP_CHECK",
		"MMAP_CHECK_REQPROT", "BPRM_CHECK", "CREDS_CHECK", "KEXEC_KERNEL_CHECK", "KEXEC_INITRAMFS_CHECK",
		"POLICY_CHECK", "KEXEC_CMDLINE", "KEY_CHECK", "CRITICAL_DATA", "SETXATTR_CHECK"}
	// hash_algo_name: no sha3 entries yet.
	source66Hashes = []string{"md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224",
		"rmd128", "rmd256", "rmd320", "wp256", "wp384", "wp512", "tgr128", "tgr160", "tgr192",
		"sm3", "streebog256", "streebog512"}
)

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestGrammar66MatchesSource(t *testing.T) {
	g := grammarOf(Kernel66)
	for _, c := range []struct {
		what   string
		got    map[string]bool
		source []string
	}{
		{"policy_tokens", g.words, source66Words},
		{"func= names", g.funcs, source66Funcs},
		{"hash_algo_name", g.hashes, source66Hashes},
	} {
		if got, want := strings.Join(sortedKeys(c.got), " "), strings.Join(sortedCopy(c.source), " "); got != want {
			t.Errorf("%s for 6.6:\n got %s\nwant %s", c.what, got, want)
		}
	}
	// ima_validate_rule of 6.6: the file hooks take IMA_CHECK_BLACKLIST and
	// IMA_VERITY_REQUIRED, the module hooks IMA_MODSIG_ALLOWED; neither
	// takes fs_subtype= or sigv3 without verity (7.2).
	if a := g.allowed["BPRM_CHECK"]; a&fBlacklist == 0 || a&fVerity == 0 || a&(fFsSubtype|fSigv3|fModsig) != 0 {
		t.Errorf("BPRM_CHECK flags on 6.6 = %#x", uint32(a))
	}
	if a := g.allowed["MODULE_CHECK"]; a&(fModsig|fBlacklist) != fModsig|fBlacklist || a&(fVerity|fFsSubtype) != 0 {
		t.Errorf("MODULE_CHECK flags on 6.6 = %#x", uint32(a))
	}
	if want := traitBlacklistAlways; g.traits != want {
		t.Errorf("6.6 traits = %#x, want only traitBlacklistAlways", uint(g.traits))
	}
}

// Rules on which 6.6 differs from a neighbouring release read, written
// alone with no configuration known. Each names the 6.6.57 code deciding.
func TestVerdicts66AgainstNeighbours(t *testing.T) {
	cfg612 := loadConfig(t, "config-6.12-debian-cloud")
	cases := []struct {
		rule                string
		cfg                 *KernelConfig
		v61, v66, v612, v72 string
		code66              string // first error on 6.6, if refused
	}{
		// Opt_func knows MMAP_CHECK_REQPROT.
		{"measure func=MMAP_CHECK_REQPROT", nil, "-", "+", "+", "+", ""},
		// Opt_appraise_flag only logs: any value, no CONFIG_IMA_APPRAISE_MODSIG needed.
		{"appraise func=BPRM_CHECK appraise_flag=foo", nil, "-", "+", "+", "+", ""},
		// appraise_type=imasig sets IMA_CHECK_BLACKLIST and the file hooks allow it.
		{"appraise func=BPRM_CHECK appraise_type=imasig appraise_flag=check_blacklist", nil, "-", "+", "+", "+", ""},
		// hash_algo_name has no sha3 yet (the 6.12 configuration builds CRYPTO_SHA3).
		{"appraise func=BPRM_CHECK appraise_algos=sha3-256", cfg612, "-", "-", "+", "+", CodeValue},
		// policy_tokens has no dont_audit and no fs_subtype.
		{"dont_audit", nil, "-", "-", "-", "+", CodeNewer},
		{"measure fs_subtype=fuse", nil, "-", "-", "-", "+", CodeNewer},
		// Opt_digest_type refuses a rule that already has IMA_DIGSIG_REQUIRED.
		{"appraise func=BPRM_CHECK appraise_type=imasig digest_type=verity", nil, "-", "-", "-", "+", CodeOrder},
		// sigv3: "Only fsverity supports sigv3 for now".
		{"appraise func=BPRM_CHECK appraise_type=sigv3", nil, "-", "-", "-", "+", CodeCombination},
		{"appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3", nil, "+", "+", "+", "+", ""},
		// ima_parse_add_rule skips only lines that start with '#'.
		{"measure func=BPRM_CHECK # exec", nil, "-", "-", "-", "+", CodeComment},
	}
	for _, c := range cases {
		for _, tg := range []struct {
			v    KernelVersion
			want string
		}{{Kernel61, c.v61}, {Kernel66, c.v66}, {Kernel612, c.v612}, {Kernel72, c.v72}} {
			p := Predict(c.rule, tg.v, c.cfg)
			if p.Accept != (tg.want == "+") {
				t.Errorf("Linux %s, %q: predicted accept=%v (%s), source says %s", tg.v, c.rule, p.Accept, p.Reason, tg.want)
			}
		}
		if c.code66 == "" {
			continue
		}
		tokens, comment := splitLine(c.rule)
		_, found := emulate(tokens, comment, Kernel66, c.cfg)
		if code := firstErrorCode(found); code != c.code66 {
			t.Errorf("Linux 6.6, %q: error code %q, want %q (%v)", c.rule, code, c.code66, found)
		}
	}
}

// 6.6.57's dont_measure_rules exclude all of tmpfs and not configfs.
func TestGenerateTCB66(t *testing.T) {
	for _, c := range []struct {
		v         KernelVersion
		tmpfsRule string
	}{
		{Kernel66, "dont_measure fsmagic=0x1021994\n"},
		{KernelVersion{6, 14, 0}, "dont_measure fsmagic=0x1021994 func=FILE_CHECK\n"},
	} {
		p, err := Generate(GenerateOptions{Profile: "tcb", Kernel: c.v})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p, c.tmpfsRule) {
			t.Errorf("tcb for %s lacks %q:\n%s", c.v, c.tmpfsRule, p)
		}
		if strings.Contains(p, "configfs") {
			t.Errorf("tcb for %s excludes configfs (only 7.3's built-in policy does)", c.v)
		}
	}
}

// Every condition and option of policy_tokens has its ima_parse_rule case,
// and no case is left without a word.
func TestWordParsersCoverWords(t *testing.T) {
	for name, w := range words {
		_, ok := wordParsers[name]
		switch {
		case (w.kind == kindCondition || w.kind == kindOption) && !ok:
			t.Errorf("%s has no case in wordParsers", name)
		case (w.kind == kindAction || w.kind == kindLSM) && ok:
			t.Errorf("%s is handled by kind but also has a case", name)
		}
	}
	for name := range wordParsers {
		if _, ok := words[name]; !ok {
			t.Errorf("wordParsers has %s, which is not in words", name)
		}
	}
}

// The releases read are in order and bound the model.
func TestReleasesRead(t *testing.T) {
	for i := 1; i < len(releasesRead); i++ {
		if releasesRead[i-1].v.AtLeast(releasesRead[i].v) {
			t.Errorf("releasesRead out of order at %s", releasesRead[i].v)
		}
	}
	if OldestKnown != Kernel61 || NewestKnown != Kernel73 {
		t.Errorf("bounds %s..%s, want 6.1..7.3", OldestKnown, NewestKnown)
	}
}
