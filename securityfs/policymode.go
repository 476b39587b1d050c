package securityfs

import (
	"os"
	"strings"
)

// signedPolicyMode decides whether the kernel must read the policy itself
// from a signed file. Once an `appraise func=POLICY_CHECK` rule is active,
// the kernel answers EACCES to every rule written (ima_write_policy); a
// policy that has one is meant to be loaded signed from the start.
func (fs FS) signedPolicyMode(policy string, rules []string, opts PolicyOptions) (bool, string) {
	if opts.Signed {
		return true, "signed policy configured"
	}
	for _, r := range rules {
		if appraisesPolicy(r) {
			return true, "the policy has an 'appraise func=POLICY_CHECK' rule"
		}
	}
	if data, err := os.ReadFile(fs.cmdline()); err == nil && cmdlineSecureBootPolicy(string(data)) {
		return true, "ima_policy=secure_boot on the kernel command line appraises POLICY_CHECK"
	}
	// Readable only with CONFIG_IMA_READ_POLICY; EACCES otherwise.
	if data, err := os.ReadFile(policy); err == nil {
		for _, r := range strings.Split(string(data), "\n") {
			if appraisesPolicy(r) {
				return true, "the active policy has an 'appraise func=POLICY_CHECK' rule"
			}
		}
	}
	return false, ""
}

func appraisesPolicy(rule string) bool {
	f := strings.Fields(rule)
	if len(f) == 0 || f[0] != "appraise" {
		return false
	}
	for _, w := range f[1:] {
		if w == "func=POLICY_CHECK" {
			return true
		}
	}
	return false
}

// cmdlineSecureBootPolicy: ima_policy= takes "|"-separated built-in
// policies and may be given more than once; secure_boot appraises
// POLICY_CHECK.
func cmdlineSecureBootPolicy(cmdline string) bool {
	for _, arg := range strings.Fields(cmdline) {
		v, ok := strings.CutPrefix(arg, "ima_policy=")
		if !ok {
			continue
		}
		for _, p := range strings.Split(strings.Trim(v, `"`), "|") {
			if p == "secure_boot" {
				return true
			}
		}
	}
	return false
}
