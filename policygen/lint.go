package policygen

import (
	"fmt"
	"sort"
	"strings"
)

type checkedRule struct {
	rule  Rule
	e     *entry
	found []finding
}

// lint looks at the accepted rules together, for what the kernel takes but
// surely was not meant. It makes one pass, so a 10,000-rule policy stays fast.
// decides[i] is false for a rule that never decides anything (shadowed by
// an earlier one, or the same as an earlier one).
func lint(rules []checkedRule) (diags []Diagnostic, decides []bool) {
	decides = make([]bool, len(rules))
	warn := func(r Rule, col int, code, format string, a ...any) {
		diags = append(diags, Diagnostic{File: r.File, Line: r.Line, Column: col, Severity: Warning, Code: code, Message: fmt.Sprintf(format, a...)})
	}
	seen := map[string]int{}
	// firstWith maps action class + a condition set to the first rule with
	// exactly those conditions.
	firstWith := map[string]int{}
	excluded := map[string]map[string]bool{} // hook ("" for any) -> pseudo file systems excluded so far
	pseudoWarned, initramfsWarned := false, false
	rootfsExempt := map[string]bool{} // hook ("" for any) -> the initramfs is exempt
	for i, cr := range rules {
		r, e := cr.rule, cr.e
		if e.fnAlias != "" {
			warn(r, e.where[bitIndex(fFunc)].Column, CodeAlias, "func=%s is an old alias: write func=%s", e.fnAlias, e.fn)
		}
		if e.mask == "MAY_READ" && (e.fn == "" || e.fn == "FILE_CHECK") {
			warn(r, e.where[bitIndex(fMask)].Column, CodeMaskRead, "mask=MAY_READ matches only opens for reading alone, not read-write opens; did you mean mask=^MAY_READ?")
		}
		if len(e.lsm) > 0 && !hasCode(cr.found, CodeLSM) {
			warn(r, firstLSMColumn(r), CodeLSMInitramfs, "LSM condition in a policy written from the initramfs: the LSM's own policy is usually not loaded yet, so the condition cannot match what the running system labels")
		}
		if e.action == "appraise" && e.fn == "POLICY_CHECK" {
			warn(r, e.actionCol, CodeSignedPolicy, "appraise func=POLICY_CHECK: once this policy is loaded, further policy updates must be signed files written by path")
		}
		if !pseudoWarned && e.action == "appraise" && appraisesReads(e) {
			if missing := missingPseudo(excluded, e.fn); len(missing) > 0 {
				pseudoWarned = true
				warn(r, e.actionCol, CodePseudoFS, "appraise rule without earlier dont_appraise for pseudo file systems (%s): files there carry no signatures, so reading them fails; add for example %q before it", strings.Join(missing, ", "), pseudoExample(missing[0]))
			}
		}
		if !initramfsWarned && e.action == "appraise" && appraisesInitramfsCode(e) && !rootfsExempt[""] && !rootfsExempt[e.fn] {
			initramfsWarned = true
			warn(r, e.actionCol, CodeInitramfs, "appraise rule for code without an earlier \"dont_appraise fsname=%s\": loaded from a dracut or initramfs-tools hook, this policy refuses the programs the initramfs still runs after the hook (cpio gives them no security.ima) and the boot stops; add that rule before it (imaboot-init as /init runs nothing from the initramfs after the policy)", rootfsName)
		}
		if e.action == "dont_appraise" {
			recordExclusion(excluded, e)
			if exemptsInitramfs(e) {
				rootfsExempt[e.fn] = true
			}
		}
		key := e.meaning()
		if first, dup := seen[key]; dup {
			warn(r, 0, CodeSameRule, "same rule as line %d", rules[first].rule.Line)
			continue
		}
		seen[key] = i
		conds := conditionList(e)
		class := actionClass[e.action]
		decides[i] = true
		if j := shadowedBy(firstWith, class, conds); j >= 0 {
			decides[i] = false
			warn(r, 0, CodeShadowed, "never decides anything: line %d (%s) matches everything this rule matches and comes first", rules[j].rule.Line, rules[j].rule.Canonical())
		}
		k := class + "\x00" + strings.Join(conds, "\x00")
		if _, ok := firstWith[k]; !ok {
			firstWith[k] = i
		}
	}
	return diags, decides
}

func hasCode(found []finding, code string) bool {
	for _, f := range found {
		if f.code == code {
			return true
		}
	}
	return false
}

func firstLSMColumn(r Rule) int {
	for _, t := range r.Tokens {
		key, _, _ := splitWord(t.Text)
		for _, l := range LSMWords {
			if key == l {
				return t.Column
			}
		}
	}
	return 0
}

// conditionList lists what a rule matches on, normalized and sorted, so
// that rules can be compared: a rule whose conditions are a subset of
// another's matches everything the other matches.
func conditionList(e *entry) []string {
	var c []string
	if e.fn != "" {
		c = append(c, "func="+e.fn)
	}
	if e.mask != "" {
		c = append(c, "mask="+e.mask)
	}
	c = append(c, fsConditions(e)...)
	for _, id := range []idCond{e.uid, e.gid, e.fowner, e.fgroup} {
		if id.set {
			c = append(c, fmt.Sprintf("%s%c%d", id.key, id.op, id.val))
		}
	}
	if e.keyrings != nil {
		c = append(c, "keyrings="+strings.Join(e.keyrings, "|"))
	}
	if e.labels != nil {
		c = append(c, "label="+strings.Join(e.labels, "|"))
	}
	for k, v := range e.lsm {
		c = append(c, k+"="+v)
	}
	sort.Strings(c)
	return c
}

// fsConditions lists a rule's file system conditions, normalized.
func fsConditions(e *entry) []string {
	var c []string
	if e.flags&fFsmagic != 0 {
		c = append(c, fmt.Sprintf("fsmagic=%#x", e.fsmagic))
	}
	if e.flags&fFsname != 0 {
		c = append(c, "fsname="+e.fsname)
	}
	if e.flags&fFsSubtype != 0 {
		c = append(c, "fs_subtype="+e.fsSubtype)
	}
	if e.flags&fFsuuid != 0 {
		c = append(c, "fsuuid="+e.fsuuid)
	}
	return c
}

// maxSubsetConditions bounds the subsets tried per rule (2^n lookups).
const maxSubsetConditions = 12

// shadowedBy returns the first earlier rule of the same action class whose
// conditions are a subset of conds, or -1. For each class the kernel takes
// the first matching rule, so a rule matched by an earlier broader one
// never decides.
func shadowedBy(firstWith map[string]int, class string, conds []string) int {
	n := len(conds)
	if n > maxSubsetConditions {
		n = maxSubsetConditions // rules this long are not worth the search
	}
	best := -1
	sub := make([]string, 0, n)
	for mask := 0; mask < 1<<n; mask++ {
		sub = sub[:0]
		for b := 0; b < n; b++ {
			if mask&(1<<b) != 0 {
				sub = append(sub, conds[b])
			}
		}
		if j, ok := firstWith[class+"\x00"+strings.Join(sub, "\x00")]; ok && (best < 0 || j < best) {
			best = j
		}
	}
	return best
}

// appraisesReads reports whether an appraise rule can reach the reads of
// files on any file system: no file system condition, and a hook that
// opens files. Code hooks are left out: nothing legitimate executes from
// proc or sysfs, and appraising code on tmpfs closes a bypass.
func appraisesReads(e *entry) bool {
	if e.flags&(fFsmagic|fFsname|fFsuuid|fFsSubtype) != 0 {
		return false
	}
	return e.fn == "" || e.fn == "FILE_CHECK"
}

// appraisesInitramfsCode reports whether an appraise rule reaches programs
// run from the initramfs: no file system condition, and a hook that
// executes or maps code.
func appraisesInitramfsCode(e *entry) bool {
	if e.flags&(fFsmagic|fFsname|fFsuuid|fFsSubtype) != 0 {
		return false
	}
	for _, h := range codeHooks[:2] { // BPRM_CHECK, MMAP_CHECK
		if h.matchedBy(e) {
			return true
		}
	}
	return false
}

// exemptsInitramfs reports whether a dont_appraise rule leaves the
// initramfs alone: fsname=rootfs, or fsmagic= of ramfs, which rootfs is
// whenever root= is on the command line (as dracut and initramfs-tools
// boots have it; init/do_mounts.c makes rootfs a tmpfs only without it).
func exemptsInitramfs(e *entry) bool {
	conds := conditionList(e)
	ramfs, _ := FilesystemByName("ramfs")
	for _, c := range conds {
		if strings.HasPrefix(c, "func=") {
			continue
		}
		if c != "fsname="+rootfsName && c != fmt.Sprintf("fsmagic=%#x", ramfs.Magic) {
			return false
		}
	}
	return len(conds) > 0
}

// PseudoFilesystems are the file systems the kernel's own appraise_tcb
// policy never appraises (configfs since 7.3; listed for every version,
// as its files carry no signatures either).
var PseudoFilesystems = []string{"proc", "sysfs", "debugfs", "tmpfs", "ramfs", "devpts", "binfmt_misc",
	"securityfs", "selinuxfs", "smackfs", "nsfs", "efivarfs", "cgroup", "cgroup2", "configfs"}

// recordExclusion notes the pseudo file system a dont_appraise rule
// excludes, if it has no other condition than the file system and a hook.
func recordExclusion(excluded map[string]map[string]bool, e *entry) {
	conds := conditionList(e)
	var fsCond string
	for _, c := range conds {
		if !strings.HasPrefix(c, "func=") {
			if fsCond != "" {
				return
			}
			fsCond = c
		}
	}
	for _, fs := range PseudoFilesystems {
		info, _ := FilesystemByName(fs)
		if fsCond == fmt.Sprintf("fsmagic=%#x", info.Magic) || fsCond == "fsname="+fs {
			if excluded[e.fn] == nil {
				excluded[e.fn] = map[string]bool{}
			}
			excluded[e.fn][fs] = true
		}
	}
}

// missingPseudo lists the pseudo file systems no earlier dont_appraise rule
// excludes for hook fn.
func missingPseudo(excluded map[string]map[string]bool, fn string) []string {
	var missing []string
	for _, fs := range PseudoFilesystems {
		if !excluded[""][fs] && !excluded[fn][fs] {
			missing = append(missing, fs)
		}
	}
	return missing
}

func pseudoExample(name string) string {
	info, _ := FilesystemByName(name)
	return fmt.Sprintf("dont_appraise fsmagic=%#x", info.Magic)
}
