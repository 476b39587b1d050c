package securityfs

import (
	"regexp"
	"testing"
)

// blankAuditStamps must rewrite what the pattern it replaces matched.
func TestBlankAuditStampsMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`audit\([0-9.:]+\)`)
	for _, s := range []string{
		`audit: type=1800 audit(1700000000.123:45): pid=1 op=appraise_data`,
		`audit(1.2:3) and audit(4.5:6)`, `audit()`, `audit(`, `audit(12`, `audit(1x)`, `audit(audit(1:2)`,
		`xaudit(1:2)y`, `no stamp`, ``, `audit(1:2`, `audit(:)`, `audit(1:2))`,
	} {
		if got, want := blankAuditStamps(s), re.ReplaceAllString(s, "audit()"); got != want {
			t.Fatalf("%q: got %q, pattern gives %q", s, got, want)
		}
	}
}
