package relabel

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MutableSet says which files are configuration that changes at run time: they get
// hashes, which the kernel updates when they are written, never signatures.
type MutableSet struct {
	paths map[string]bool // paths inside the target root
	globs []string
}

// MutableSources lists where mutable files come from. Paths in lists are paths inside
// the target root ("/etc/hosts").
type MutableSources struct {
	// Dpkg reads ROOT/var/lib/dpkg/info/*.conffiles when they exist.
	Dpkg bool
	// Lists are files of one path per line, e.g. the output of `rpm -qac`.
	Lists []string
	// Globs are shell patterns on paths inside the root; a pattern without glob
	// characters also covers everything under it ("/etc").
	Globs []string
}

// LoadMutable builds the set for a target root.
func LoadMutable(root string, src MutableSources) (*MutableSet, error) {
	m := &MutableSet{paths: map[string]bool{}}
	for _, g := range src.Globs {
		if _, err := filepath.Match(g, "/"); err != nil {
			return nil, fmt.Errorf("mutable pattern %q: %w", g, err)
		}
		m.globs = append(m.globs, g)
	}
	lists := append([]string(nil), src.Lists...)
	if src.Dpkg {
		conf, err := filepath.Glob(filepath.Join(root, "var/lib/dpkg/info/*.conffiles"))
		if err != nil {
			return nil, err
		}
		lists = append(lists, conf...)
	}
	for _, l := range lists {
		if err := m.readList(l); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// readList takes the first field starting with '/' of each line: dpkg's conffiles may
// carry flags ("remove-on-upgrade /etc/x"), `rpm -qac` prints bare paths.
func (m *MutableSet) readList(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mutable file list: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		for _, fld := range strings.Fields(sc.Text()) {
			if strings.HasPrefix(fld, "/") {
				m.paths[filepath.Clean(fld)] = true
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("mutable file list %s: %w", path, err)
	}
	return nil
}

// Len returns how many listed paths (not globs) the set holds.
func (m *MutableSet) Len() int { return len(m.paths) }

// Match reports whether a path inside the target root is mutable.
func (m *MutableSet) Match(rel string) bool {
	if m == nil {
		return false
	}
	if m.paths[rel] {
		return true
	}
	for _, g := range m.globs {
		if matchPathPattern(g, rel) {
			return true
		}
	}
	return false
}
