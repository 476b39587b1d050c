package debsign

import (
	"bufio"
	"bytes"
	"strings"
)

// controlField returns a single-line field of a control file.
func controlField(control []byte, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(control))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// parseConffiles reads DEBIAN/conffiles: one absolute path a line, which
// dpkg 1.20+ may prefix with flags ("remove-on-upgrade /etc/x").
func parseConffiles(b []byte) map[string]bool {
	set := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimRight(l, " \r")
		if l != "" && !strings.HasPrefix(l, "/") {
			_, l, _ = strings.Cut(l, " ")
		}
		if strings.HasPrefix(l, "/") {
			set[l] = true
		}
	}
	return set
}
