package initagent

import (
	"context"
	"fmt"
	"os"

	"github.com/imaboot/imaboot/policygen"
	"github.com/imaboot/imaboot/securityfs"
)

// loadPolicy reads the IMA policy, checks it against the running kernel's
// grammar (nothing is written when the check finds an error: a refused
// rule would leave the machine without a policy for this boot) and writes
// it one rule per write, confirming the kernel took it.
func (a *Agent) loadPolicy(ctx context.Context) (string, error) {
	if a.Config.IMAPolicy == "" {
		return "", Skip("IMA_POLICY is empty: no policy configured")
	}
	path := a.keyPath(a.Config.IMAPolicy)
	src, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read IMA policy: %w", err)
	}
	var cfg *policygen.KernelConfig
	if lsm, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		cfg = &policygen.KernelConfig{ActiveLSM: policygen.ActiveLSMFromList(string(lsm))}
	}
	p, err := policygen.Prepare(path, src, a.kernel, cfg)
	if err != nil {
		return "", err
	}
	for _, w := range p.Warnings() {
		a.Log.Warnf("%s", w)
	}
	if err := p.Err(); err != nil {
		return "", fmt.Errorf("%w; nothing written", err)
	}
	rules := make([]string, len(p.Rules))
	for i, r := range p.Rules {
		rules[i] = r.Canonical()
	}
	res, err := securityfs.LoadPolicy(securityfs.FS{}, rules, securityfs.PolicyOptions{Path: path})
	if err != nil {
		return "", err
	}
	return res.Summary(), nil
}
