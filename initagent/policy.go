package initagent

import (
	"fmt"

	"github.com/imaboot/imaboot/policygen"
	"github.com/imaboot/imaboot/securityfs"
)

// loadPolicy takes the IMA policy as read and checked against the running
// kernel's grammar (inputs.go; nothing is written when the check found an
// error: a refused rule would leave the machine without a policy for this
// boot) and writes it one rule per write, confirming the kernel took it.
func (a *Agent) loadPolicy(in *inputs) (string, error) {
	if a.Config.IMAPolicy == "" {
		return "", Skip("IMA_POLICY is empty: no policy configured")
	}
	path := in.policyPath
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
	rules := make([]string, len(p.Rules))
	for i, r := range p.Rules {
		rules[i] = r.Canonical()
	}
	res, err := securityfs.LoadPolicy(a.secfs, rules, securityfs.PolicyOptions{Path: path})
	if err != nil {
		return "", err
	}
	// A deliberately open profile (the seed) leaves known bypasses: one
	// clause on the step's line, not a warning per rule at every boot.
	if b := p.BypassSummary(); b != "" {
		return res.Summary() + "; the policy leaves " + b + " (imaboot-policygen check lists them)", nil
	}
	return res.Summary(), nil
}
