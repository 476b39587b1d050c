package policygen

import (
	"fmt"
	"strings"
)

// Check judges rules for kernel v: first each rule as the kernel's parser
// would (at most one error per rule, the first the kernel meets), then the
// policy as a whole for what is legal but surely unintended. cfg may be nil
// when the kernel's configuration is unknown.
func Check(rules []Rule, v KernelVersion, cfg *KernelConfig) []Diagnostic {
	diags, _ := check(rules, v, cfg)
	return diags
}

// check is Check, also returning the bypass report's findings (which are
// among the diagnostics) for the boot agent's summary.
func check(rules []Rule, v KernelVersion, cfg *KernelConfig) ([]Diagnostic, []bypass) {
	var diags []Diagnostic
	file := ""
	if len(rules) > 0 {
		file = rules[0].File
	}
	switch {
	case !v.AtLeast(OldestKnown):
		diags = append(diags, Diagnostic{File: file, Severity: Warning, Code: CodeVersionBounds,
			Message: fmt.Sprintf("Linux %s is older than the oldest grammar modeled here (%s); checked as %s", v, OldestKnown, OldestKnown)})
		v = OldestKnown
	case !NewestKnown.AtLeast(v):
		diags = append(diags, Diagnostic{File: file, Severity: Warning, Code: CodeVersionBounds,
			Message: fmt.Sprintf("Linux %s is newer than the newest grammar modeled here (%s); checked as %s", v, NewestKnown, NewestKnown)})
	}
	if len(rules) == 0 {
		return append(diags, Diagnostic{File: file, Severity: Warning, Code: CodeEmpty,
			Message: "the policy has no rules: writing it replaces the boot policy with nothing, so nothing is measured or appraised"}), nil
	}
	checked := make([]checkedRule, 0, len(rules))
	for _, r := range rules {
		e, found := emulate(r.Tokens, r.Comment, v, cfg)
		if n := len(r.Canonical()); n > MaxRuleLength {
			found = append(found, finding{1, Error, CodeLength, fmt.Sprintf("rule is %d bytes long: the kernel reads at most %d bytes of one write, so it would parse a cut rule", n, MaxRuleLength)})
		}
		ok := true
		for _, f := range found {
			if f.severity == Error {
				ok = false
			}
			diags = append(diags, Diagnostic{File: r.File, Line: r.Line, Column: f.col, Severity: f.severity, Code: f.code, Message: f.msg})
		}
		if ok {
			checked = append(checked, checkedRule{rule: r, e: e, found: found})
		}
	}
	lints, decides := lint(checked)
	diags = append(diags, lints...)
	bypasses := bypassReport(checked, decides, v)
	for i := range bypasses {
		if bypasses[i].File == "" {
			bypasses[i].File = file
		}
		diags = append(diags, bypasses[i].Diagnostic)
	}
	return diags, bypasses
}

// CheckPolicy reads and checks one policy file.
func CheckPolicy(name string, src []byte, v KernelVersion, cfg *KernelConfig) []Diagnostic {
	rules, diags := ReadPolicy(name, src)
	all := Check(rules, v, cfg)
	for i := range all {
		if all[i].File == "" {
			all[i].File = name
		}
	}
	return append(diags, all...)
}

// Prediction is Check's verdict on one rule written alone to a kernel that
// has no custom policy yet, as JudgeRules asks it.
type Prediction struct {
	Accept bool
	// Certain is false when the verdict depends on something Check was not
	// told (configuration, LSM, a crypto module being loaded).
	Certain bool
	// Reason is the first error or uncertainty, empty when accepted surely.
	Reason string
}

// Predict says whether kernel v would accept rule, written as is (plus a
// newline) in one write, with nothing loaded beforehand. Unlike ReadPolicy
// it keeps every byte, so a '\r' or '#' reaches the emulated parser as it
// would reach the kernel. A hash algorithm that is only a module counts as
// refused (nothing loads it in a judging session).
func Predict(rule string, v KernelVersion, cfg *KernelConfig) Prediction {
	if len(rule) > MaxRuleLength {
		return Prediction{Accept: false, Certain: true, Reason: "longer than one write carries"}
	}
	// The kernel parses up to the first newline or NUL only; the write then
	// reports fewer bytes than sent, which the judge counts as a refusal.
	if strings.ContainsAny(rule, "\n\x00") {
		return Prediction{Accept: false, Certain: true, Reason: "newline or NUL inside the rule: short write"}
	}
	if strings.HasPrefix(rule, "/") {
		return Prediction{Accept: false, Certain: true, Reason: "a write starting with '/' names a policy file"}
	}
	tokens, comment := splitLine(rule)
	if len(tokens) == 0 {
		// A comment or blank write is accepted and adds nothing.
		return Prediction{Accept: true, Certain: true}
	}
	_, found := emulate(tokens, comment, v, cfg)
	p := Prediction{Accept: true, Certain: true}
	for _, f := range found {
		switch {
		case f.severity == Error:
			return Prediction{Accept: false, Certain: true, Reason: f.msg}
		case f.code == CodeModule:
			return Prediction{Accept: false, Certain: true, Reason: f.msg}
		case uncertainCodes[f.code] && p.Certain:
			p.Certain, p.Reason = false, f.msg
		}
	}
	return p
}
