package policygen

import (
	"regexp"
	"testing"
)

// parseRelease must read what the pattern it replaces matched.
func TestParseReleaseMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?`)
	for _, s := range []string{"6.1.0-56-cloud-amd64", "6.12.48+deb13-cloud-amd64", "6.12", "v7.3", "v7.3.1x", "7", "7.", "7.x",
		".1.2", "vv6.1", "6.1.", "6.1.x", "6..1", "", "v", "12345678901234567890.1", "6.01.002", "6.1.2.3", "x6.1"} {
		major, minor, patch, ok := parseRelease(s)
		m := re.FindStringSubmatch(s)
		if ok != (m != nil) {
			t.Fatalf("%q: parsed=%v, pattern matched=%v", s, ok, m != nil)
		}
		if ok && (major != m[1] || minor != m[2] || patch != m[3]) {
			t.Fatalf("%q: got %q %q %q, pattern %q %q %q", s, major, minor, patch, m[1], m[2], m[3])
		}
	}
}
