package initagent

import (
	"fmt"

	"github.com/imaboot/imaboot/policygen"
	"github.com/imaboot/imaboot/securityfs"
)

// policyLoad is what the ima-policy step loaded, for the steps that prove
// it (enforcement.go).
type policyLoad struct {
	loaded bool
	// appraises: the rules loaded include an appraise rule.
	appraises bool
	// canary, marker: canaryRule or markerRule went in first.
	canary, marker bool
	// withoutAppraisal: a break-glass boot dropped the appraise rules.
	withoutAppraisal bool
}

// loadPolicy takes the IMA policy as read and checked against the running
// kernel's grammar (inputs.go; nothing is written when the check found an
// error: a refused rule would leave the machine without a policy for this
// boot) and writes it one rule per write, confirming the kernel took it.
// The agent's own rule goes first: canaryRule when the policy appraises (so
// prove-enforcement can show the kernel enforces), markerRule in a
// break-glass boot, whose policy loses its appraise rules unless the
// kernel's mode already refuses nothing (breakglass.go).
func (a *Agent) loadPolicy(in *inputs, pl *policyLoad) (string, error) {
	breakGlass := a.Config.BreakGlass
	if a.Config.IMAPolicy == "" && !breakGlass {
		return "", Skip("IMA_POLICY is empty: no policy configured")
	}
	var rules []string
	var bypasses string
	path := in.policyPath
	if a.Config.IMAPolicy != "" {
		p, err := in.policy, in.policyErr
		if err != nil {
			return "", err
		}
		for _, w := range p.Warnings() { // the bypass report is summed up below
			if w.Code == policygen.CodeInitramfs {
				if a.hook {
					// The generator's init runs its own unsigned programs after
					// this hook: the boot would stop later, saying nothing.
					return "", fmt.Errorf("%s:%d: %s; nothing written", w.File, w.Line, w.Message)
				}
				continue // as /init, nothing runs from the initramfs after the policy
			}
			a.Log.Warnf("%s", w)
		}
		if err := p.Err(); err != nil {
			return "", fmt.Errorf("%w; nothing written", err)
		}
		kept := p.Rules
		if breakGlass && a.appraisal.Mode == AppraiseEnforce {
			kept, pl.withoutAppraisal = withoutAppraisal(p.Rules), true
			// The signed file holds the appraise rules: never fall back
			// to it.
			path = ""
		} else {
			bypasses = p.BypassSummary()
		}
		pl.appraises = appraises(kept)
		for _, r := range kept {
			rules = append(rules, r.Canonical())
		}
	}
	var lead []string
	switch {
	case breakGlass:
		lead, pl.marker = []string{markerRule}, true
	case pl.appraises:
		lead, pl.canary = []string{canaryRule}, true
	}
	if len(rules) == 0 {
		// Nothing of the policy's own is left (break-glass): the marker
		// rule alone.
		rules, lead = lead, nil
	}
	res, err := securityfs.LoadPolicy(a.secfs, rules, securityfs.PolicyOptions{Path: path, Lead: lead})
	if err != nil {
		pl.canary, pl.marker = false, false
		return "", err
	}
	pl.loaded = true
	if res.Mode == "signed" {
		// The kernel read the signed file: the agent's rule is not in.
		pl.canary, pl.marker = false, false
	}
	detail := res.Summary()
	if pl.withoutAppraisal {
		detail = "break-glass: appraise rules left out; " + detail
	}
	// A deliberately open profile (the seed) leaves known bypasses: one
	// clause on the step's line, not a warning per rule at every boot.
	if bypasses != "" {
		detail += "; the policy leaves " + bypasses + " (imaboot-policygen check lists them)"
	}
	return detail, nil
}
