package securityfs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// NotLoadedError says the session closed without error but the kernel did
// not take the policy, or no evidence that it did was found.
type NotLoadedError struct {
	Policy string
	Why    string
	Kernel []string
}

func (e *NotLoadedError) Error() string {
	s := fmt.Sprintf("IMA policy: %s: %s", e.Policy, e.Why)
	if len(e.Kernel) > 0 {
		s += "; kernel: " + strings.Join(e.Kernel, " | ")
	}
	return s
}

// confirmPolicy looks for evidence that the kernel took the policy at
// close(2) (ima_release_policy), strongest first:
//   - "policy update failed" in the kernel log: it did not (the combined
//     policy failed ima_check_policy);
//   - the policy file is gone (kernels without CONFIG_IMA_WRITE_POLICY);
//   - it lost its write bit (CONFIG_IMA_READ_POLICY only);
//   - it reads back ending with the rules written (IMA_READ_POLICY);
//   - the kernel logged "policy update completed".
func (fs FS) confirmPolicy(policy string, rules []string, log KernelLog) (string, []string, error) {
	// A removed file is proof enough, and the common case (no
	// IMA_WRITE_POLICY): the kernel removes it only after a good update
	// (ima_release_policy returns early, file kept, when the policy failed).
	if _, err := os.Stat(policy); errors.Is(err, os.ErrNotExist) {
		return "the kernel removed the policy file", nil, nil
	}
	// The kernel prints the close verdict synchronously; a short wait is
	// only for the audit copy.
	msgs := collectAudit(log, min(fs.auditWait(), 50*time.Millisecond), func(m []string) bool {
		return logSays(m, "policy update completed") || logSays(m, "policy update failed")
	})
	if logSays(msgs, "policy update failed") {
		return "", msgs, &NotLoadedError{Policy: policy, Why: "the kernel logged \"policy update failed\" at close: nothing loaded", Kernel: msgs}
	}
	st, err := os.Stat(policy)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "the kernel removed the policy file", msgs, nil
	case err != nil:
		return "", msgs, &NotLoadedError{Policy: policy, Why: "cannot confirm the load: " + err.Error(), Kernel: msgs}
	case st.Mode().Perm()&0o222 == 0:
		return "the policy file is no longer writable", msgs, nil
	}
	if data, err := os.ReadFile(policy); err == nil {
		if why := policyTailDiffers(string(data), rules); why != "" {
			return "", msgs, &NotLoadedError{Policy: policy, Why: "read back does not end with the rules written: " + why, Kernel: msgs}
		}
		return "the policy reads back", msgs, nil
	}
	if logSays(msgs, "policy update completed") {
		return "the kernel logged \"policy update completed\"", msgs, nil
	}
	return "", msgs, &NotLoadedError{Policy: policy, Why: "no evidence the kernel took the policy: the file is still writable, not readable, and the kernel log says nothing", Kernel: msgs}
}

func logSays(msgs []string, what string) bool {
	for _, m := range msgs {
		if strings.Contains(m, what) {
			return true
		}
	}
	return false
}

// policyTailDiffers compares the last len(rules) lines read back with the
// rules: every word of a rule must appear in the kernel's line, which may
// order or add words (the kernel prints its own form). "" means they match.
func policyTailDiffers(readBack string, rules []string) string {
	var lines []string
	for _, l := range strings.Split(readBack, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) < len(rules) {
		return fmt.Sprintf("%d rules read back, %d written", len(lines), len(rules))
	}
	tail := lines[len(lines)-len(rules):]
	for i, r := range rules {
		have := map[string]bool{}
		for _, w := range strings.Fields(tail[i]) {
			have[w] = true
		}
		for _, w := range strings.Fields(r) {
			if !have[w] {
				return fmt.Sprintf("rule %d %q reads back as %q", i+1, r, tail[i])
			}
		}
	}
	return ""
}
