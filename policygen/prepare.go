package policygen

import (
	"fmt"
	"strings"
)

// Prepared is a policy read and checked for the kernel it is about to be
// written to: what the boot agent needs before it opens the policy file.
type Prepared struct {
	Kernel KernelVersion
	Rules  []Rule
	// Writes are the rules' canonical texts, each ending in "\n": one
	// write() per element, in order.
	Writes      []string
	Diagnostics []Diagnostic
	bypasses    []bypass
}

// Prepare reads and checks a policy for the kernel whose uname release is
// given ("6.1.0-56-cloud-amd64"). cfg may be nil; a booted agent can still
// name the active LSM with &KernelConfig{ActiveLSM:
// ActiveLSMFromList(content of /sys/kernel/security/lsm)}. The error is only
// for an unusable release; the policy's own errors are in Diagnostics and
// Err.
func Prepare(name string, src []byte, release string, cfg *KernelConfig) (*Prepared, error) {
	v, err := ParseKernelVersion(release)
	if err != nil {
		return nil, err
	}
	rules, diags := ReadPolicy(name, src)
	checked, bypasses := check(rules, v, cfg)
	diags = append(diags, checked...)
	for i := range diags {
		if diags[i].File == "" {
			diags[i].File = name
		}
	}
	p := &Prepared{Kernel: v, Rules: rules, Diagnostics: diags, bypasses: bypasses}
	for _, r := range rules {
		p.Writes = append(p.Writes, r.Canonical()+"\n")
	}
	return p, nil
}

// Err is nil when the kernel should accept every rule; otherwise it names
// the number of errors and the first three, each as file:line:column.
func (p *Prepared) Err() error {
	var errs []string
	for _, d := range p.Diagnostics {
		if d.Severity == Error {
			errs = append(errs, d.String())
		}
	}
	if len(errs) == 0 {
		return nil
	}
	shown := errs
	if len(shown) > 3 {
		shown = shown[:3]
	}
	return fmt.Errorf("policy check for Linux %s: %d error(s): %s", p.Kernel, len(errs), strings.Join(shown, "; "))
}

// Warnings returns the warnings other than the bypass report's, for the
// agent's log, one line each.
func (p *Prepared) Warnings() []Diagnostic {
	var w []Diagnostic
	for _, d := range p.Diagnostics {
		if d.Severity == Warning && !IsBypass(d.Code) {
			w = append(w, d)
		}
	}
	return w
}

// BypassSummary is the bypass report in one line, for a boot log that
// must not drown in a deliberately open policy's warnings, e.g. "9 known
// bypasses: no appraisal of MODULE_CHECK, FIRMWARE_CHECK; appraisal
// limited by fowner=0; not appraised: tmpfs, ramfs". Empty when the
// report found none ("imaboot-policygen check" lists each).
func (p *Prepared) BypassSummary() string { return bypassSummary(p.bypasses) }

// AppraisesPolicy reports whether the policy has an accepted "appraise
// func=POLICY_CHECK" rule: once it is loaded, the kernel takes further
// policy updates only as the path of a signed file.
func (p *Prepared) AppraisesPolicy() bool {
	for _, r := range p.Rules {
		e, found := emulate(r.Tokens, r.Comment, p.Kernel, nil)
		if firstError(found) == nil && e.action == "appraise" && e.fn == "POLICY_CHECK" {
			return true
		}
	}
	return false
}
