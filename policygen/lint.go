package policygen

import (
	"fmt"
	"strings"
)

type checkedRule struct {
	rule  Rule
	e     *entry
	found []finding
}

// lint looks at the accepted rules together, for what the kernel takes but
// surely was not meant.
func lint(rules []checkedRule, cfg *KernelConfig) []Diagnostic {
	var diags []Diagnostic
	warn := func(r Rule, col int, code, format string, a ...any) {
		diags = append(diags, Diagnostic{File: r.File, Line: r.Line, Column: col, Severity: Warning, Code: code, Message: fmt.Sprintf(format, a...)})
	}
	seen := map[string]int{}
	pseudoWarned := false
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
		key := e.meaning()
		if first, dup := seen[key]; dup {
			warn(r, 0, CodeSameRule, "same rule as line %d", rules[first].rule.Line)
			continue
		}
		seen[key] = i
		if j := shadowedBy(rules, i); j >= 0 {
			warn(r, 0, CodeShadowed, "never decides anything: line %d (%s) matches everything this rule matches and comes first", rules[j].rule.Line, rules[j].rule.Canonical())
		}
		if !pseudoWarned && e.action == "appraise" && appraisesFiles(e) {
			if missing := missingPseudoExclusions(rules[:i], e); len(missing) > 0 {
				pseudoWarned = true
				warn(r, e.actionCol, CodePseudoFS, "appraise rule without earlier dont_appraise for pseudo file systems (%s): files there carry no signatures, so their reads or executions fail; add for example %q before it", strings.Join(missing, ", "), pseudoExample(missing[0]))
			}
		}
	}
	return diags
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

// conditions lists what a rule matches on, normalized, so that rules can
// be compared: a rule whose conditions are a subset of another's matches
// everything the other matches.
func conditions(e *entry) map[string]string {
	c := map[string]string{}
	if e.fn != "" {
		c["func"] = e.fn
	}
	if e.mask != "" {
		c["mask"] = e.mask
	}
	if e.flags&fFsmagic != 0 {
		c["fsmagic"] = fmt.Sprintf("%#x", e.fsmagic)
	}
	if e.flags&fFsname != 0 {
		c["fsname"] = e.fsname
	}
	if e.flags&fFsSubtype != 0 {
		c["fs_subtype"] = e.fsSubtype
	}
	if e.flags&fFsuuid != 0 {
		c["fsuuid"] = e.fsuuid
	}
	for _, id := range []idCond{e.uid, e.gid, e.fowner, e.fgroup} {
		if id.set {
			c[id.key] = fmt.Sprintf("%c%d", id.op, id.val)
		}
	}
	if e.keyrings != nil {
		c["keyrings"] = strings.Join(e.keyrings, "|")
	}
	if e.labels != nil {
		c["label"] = strings.Join(e.labels, "|")
	}
	for k, v := range e.lsm {
		c[k] = v
	}
	return c
}

// shadowedBy returns the index of an earlier rule of the same action class
// whose conditions are a subset of rule i's, or -1. For each class the
// kernel takes the first matching rule, so rule i never decides.
func shadowedBy(rules []checkedRule, i int) int {
	ei := rules[i].e
	ci := conditions(ei)
	for j := 0; j < i; j++ {
		ej := rules[j].e
		if actionClass[ej.action] != actionClass[ei.action] {
			continue
		}
		if subset(conditions(ej), ci) {
			return j
		}
	}
	return -1
}

func subset(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// appraisesFiles reports whether an appraise rule can reach files on any
// file system: no file system condition, and a hook that opens files.
func appraisesFiles(e *entry) bool {
	if e.flags&(fFsmagic|fFsname|fFsuuid|fFsSubtype) != 0 {
		return false
	}
	switch e.fn {
	case "", "FILE_CHECK", "MMAP_CHECK", "MMAP_CHECK_REQPROT", "BPRM_CHECK", "CREDS_CHECK":
		return true
	}
	return false
}

// PseudoFilesystems are the file systems the kernel's own appraise_tcb
// policy never appraises.
var PseudoFilesystems = []string{"proc", "sysfs", "debugfs", "tmpfs", "ramfs", "devpts", "binfmt_misc",
	"securityfs", "selinuxfs", "smackfs", "nsfs", "efivarfs", "cgroup", "cgroup2"}

// missingPseudoExclusions lists the pseudo file systems that no earlier
// dont_appraise rule excludes for the hook of e.
func missingPseudoExclusions(earlier []checkedRule, e *entry) []string {
	excluded := map[string]bool{}
	for _, cr := range earlier {
		x := cr.e
		if x.action != "dont_appraise" || (x.fn != "" && x.fn != e.fn) {
			continue
		}
		c := conditions(x)
		delete(c, "func")
		if len(c) != 1 {
			continue
		}
		for _, fs := range PseudoFilesystems {
			info, _ := FilesystemByName(fs)
			if c["fsmagic"] == fmt.Sprintf("%#x", info.Magic) || c["fsname"] == fs {
				excluded[fs] = true
			}
		}
	}
	var missing []string
	for _, fs := range PseudoFilesystems {
		if !excluded[fs] {
			missing = append(missing, fs)
		}
	}
	return missing
}

func pseudoExample(name string) string {
	info, _ := FilesystemByName(name)
	return fmt.Sprintf("dont_appraise fsmagic=%#x", info.Magic)
}
