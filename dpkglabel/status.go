package dpkglabel

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Package is one stanza of dpkg's status file.
type Package struct {
	Name, Arch, MultiArch string
	Want, Flag, State     string // the three words of Status:
}

// InfoName is the prefix of the package's files in dpkg's info directory:
// "NAME" or, for Multi-Arch: same packages, "NAME:ARCH".
func (p Package) InfoName() string {
	if p.MultiArch == "same" && p.Arch != "" {
		return p.Name + ":" + p.Arch
	}
	return p.Name
}

// Installed reports whether the package's files are on disk.
func (p Package) Installed() bool {
	switch p.State {
	case "installed", "unpacked", "half-configured", "half-installed", "triggers-awaited", "triggers-pending":
		return true
	}
	return false
}

// Pending reports whether the package was unpacked and not yet configured:
// what the post-invoke hook after dpkg --unpack must label.
func (p Package) Pending() bool {
	switch p.State {
	case "unpacked", "half-configured", "half-installed":
		return true
	}
	return false
}

// ReadStatus parses dpkg's status file.
func ReadStatus(path string) ([]Package, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dpkg status: %w", err)
	}
	var out []Package
	var cur Package
	line := 0
	flush := func() error {
		if cur.Name == "" && cur.State == "" {
			return nil
		}
		if cur.Name == "" || cur.State == "" {
			return fmt.Errorf("dpkg status %s: stanza ending at line %d has no Package or no Status", path, line)
		}
		out = append(out, cur)
		cur = Package{}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line++
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			continue // a continuation line (Description, Conffiles)
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("dpkg status %s: line %d: no field name: %q", path, line, l)
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
				return nil, fmt.Errorf("dpkg status %s: line %d: Status %q is not three words", path, line, v)
			}
			cur.Want, cur.Flag, cur.State = f[0], f[1], f[2]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dpkg status %s: %w", path, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// Diversions maps a diverted path to where a package's file of that name
// really is, for every package but the diverting one.
type Diversions map[string]diversion

type diversion struct{ to, by string }

// ReadDiversions parses dpkg's diversions file (triplets of lines: from,
// to, diverting package or ":" for a local diversion). A missing file is no
// diversion.
func ReadDiversions(path string) (Diversions, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return Diversions{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dpkg diversions: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(b) == 0 {
		lines = nil
	}
	if len(lines)%3 != 0 {
		return nil, fmt.Errorf("dpkg diversions %s: %d lines, not triplets", path, len(lines))
	}
	d := Diversions{}
	for i := 0; i < len(lines); i += 3 {
		d[lines[i]] = diversion{to: lines[i+1], by: lines[i+2]}
	}
	return d, nil
}

// Where returns where package pkg's file path is on disk.
func (d Diversions) Where(pkg, path string) string {
	if v, ok := d[path]; ok && v.by != pkg {
		return v.to
	}
	return path
}

// infoPath is a file of the info directory under the admin directory.
func infoPath(admin, infoName, suffix string) string {
	return filepath.Join(admin, "info", infoName+"."+suffix)
}
