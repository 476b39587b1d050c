package policygen

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// KernelVersion is a kernel release reduced to what the policy grammar
// depends on. Patch is kept for display; the grammar changes only with
// Major.Minor.
type KernelVersion struct {
	Major, Minor, Patch int
}

// The releases whose sources were read line by line; others are placed
// between them by the dated tables of grammar.go.
var (
	Kernel61 = KernelVersion{6, 1, 0}
	// Kernel66's grammar is what the dates of grammar.go placed there
	// before its source was read: reading it moved no date.
	Kernel66  = KernelVersion{6, 6, 0}
	Kernel612 = KernelVersion{6, 12, 0}
	Kernel72  = KernelVersion{7, 2, 0}
	// Kernel73's grammar is 7.2's; its built-in policies also exclude configfs.
	Kernel73 = KernelVersion{7, 3, 0}

	// OldestKnown and NewestKnown bound the grammar this package models.
	OldestKnown = releasesRead[0].v
	NewestKnown = releasesRead[len(releasesRead)-1].v
)

// releasesRead are the releases read, oldest first, with the source each
// was read from: security/integrity/ima/ima_policy.c (policy_tokens,
// ima_parse_rule, ima_validate_rule, the built-in rules), ima_fs.c,
// ima_template.c and crypto/hash_info.c.
var releasesRead = []struct {
	v      KernelVersion
	source string
}{
	{Kernel61, "Debian linux-source-6.1 (6.1.192)"},
	{Kernel66, "linux-6.6.y stable at 6.6.57 (its IMA files unchanged in grammar since 6.6.0)"},
	{Kernel612, "Debian linux-source-6.12 (6.12.117)"},
	{Kernel72, "Debian linux-source-7.2 (7.2.13)"},
	{Kernel73, "Debian linux-source-7.3 (7.3.4)"},
}

var releaseRE = regexp.MustCompile(`^v?(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseKernelVersion accepts a uname release such as "6.1.0-56-cloud-amd64"
// or "6.12.48+deb13-cloud-amd64", a plain "6.12", or "latest" (the newest
// grammar known here).
func ParseKernelVersion(release string) (KernelVersion, error) {
	s := strings.TrimSpace(release)
	if s == "latest" || s == "mainline" {
		return NewestKnown, nil
	}
	m := releaseRE.FindStringSubmatch(s)
	if m == nil {
		return KernelVersion{}, fmt.Errorf("kernel version %q: want a release like 6.1 or 6.12.48+deb13-cloud-amd64", release)
	}
	var v KernelVersion
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.Patch, _ = strconv.Atoi(m[3])
	}
	return v, nil
}

func (v KernelVersion) String() string {
	if v.Patch == 0 {
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// AtLeast reports whether v is release o or newer, ignoring patch levels.
func (v KernelVersion) AtLeast(o KernelVersion) bool {
	if v.Major != o.Major {
		return v.Major > o.Major
	}
	return v.Minor >= o.Minor
}

// IsZero reports whether v was never set.
func (v KernelVersion) IsZero() bool { return v == KernelVersion{} }
