package dpkglabel

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Package is one stanza of dpkg's status file.
type Package struct {
	Name, Arch, MultiArch string
	State                 string // the third word of Status: installed, unpacked, ...
}

// Pending reports whether dpkg unpacked the package but has not configured
// it yet: its files are new and its postinst has not run.
func (p Package) Pending() bool {
	switch p.State {
	case "unpacked", "half-configured", "half-installed":
		return true
	}
	return false
}

// HasFiles reports whether the package's files are on disk.
func (p Package) HasFiles() bool {
	return p.State != "not-installed" && p.State != "config-files"
}

// ParseStatus reads dpkg's status file (deb822 stanzas).
func ParseStatus(r io.Reader, name string) ([]Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []Package
	var cur Package
	start := 0
	flush := func() error {
		if cur.Name == "" && cur.State == "" {
			return nil
		}
		if cur.Name == "" || cur.State == "" {
			return fmt.Errorf("%s: stanza at line %d has no Package or no Status field", name, start)
		}
		out = append(out, cur)
		cur = Package{}
		return nil
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // continuation of a multi-line field
		}
		if cur.Name == "" && cur.State == "" {
			start = n
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s: line %d: %q is not a field", name, n, line)
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			cur.Name = v
		case "Architecture":
			cur.Arch = v
		case "Multi-Arch":
			cur.MultiArch = v
		case "Status":
			f := strings.Fields(v)
			if len(f) != 3 {
				return nil, fmt.Errorf("%s: line %d: Status %q is not \"WANT FLAG STATE\"", name, n, v)
			}
			cur.State = f[2]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseDiversions reads dpkg's diversions file (three lines per diversion:
// the diverted path, where it went, the diverting package or ":" for a
// local one) into a map from the diverted path.
func ParseDiversions(r io.Reader, name string) (map[string]Diversion, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(b) == 0 {
		lines = nil
	}
	if len(lines)%3 != 0 {
		return nil, fmt.Errorf("%s: %d lines, not three per diversion", name, len(lines))
	}
	out := make(map[string]Diversion, len(lines)/3)
	for i := 0; i < len(lines); i += 3 {
		out[lines[i]] = Diversion{To: lines[i+1], By: lines[i+2]}
	}
	return out, nil
}

// Diversion says where a diverted file lives and who diverted it.
type Diversion struct{ To, By string }

// actual returns where pkg's file path really is on disk.
func actual(divs map[string]Diversion, pkg, path string) string {
	if d, ok := divs[path]; ok && d.By != pkg {
		return d.To
	}
	return path
}
