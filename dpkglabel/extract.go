package dpkglabel

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/imaboot/imaboot/imasigs"
)

// ControlDir is where dpkg extracts the control members of the package it
// is unpacking, inside its admin directory.
const ControlDir = "tmp.ci"

// NewSuffix is the name dpkg gives a file it has extracted and not yet
// renamed into place.
const NewSuffix = ".dpkg-new"

// Extraction is one package dpkg is unpacking, as the dpkg-deb shim sees it
// once dpkg has read the whole data archive: its files sit beside their
// final names as NAME.dpkg-new, and its control members in ADMIN/tmp.ci.
type Extraction struct {
	Root     string // dpkg's DPKG_ROOT ("" or "/" for the running system)
	AdminDir string // dpkg's DPKG_ADMINDIR
}

// ReadManifest reads the manifest of the package being unpacked
// (tmp.ci/imasigs); nil without error for a package that has none.
func (x Extraction) ReadManifest() (*imasigs.Manifest, error) {
	p := filepath.Join(x.AdminDir, ControlDir, imasigs.ControlMember)
	b, err := os.ReadFile(p)
	return parseManifest(b, err, p)
}

// Package is the name in tmp.ci/control (the diversions file names
// diverting packages by it).
func (x Extraction) Package() (string, error) {
	p := filepath.Join(x.AdminDir, ControlDir, "control")
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Package:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return "", fmt.Errorf("%s: no Package field", p)
}

// diversions reads ADMIN/diversions (none: an empty map).
func (x Extraction) diversions() (map[string]Diversion, error) {
	p := filepath.Join(x.AdminDir, "diversions")
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Diversion{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseDiversions(f, p)
}

// LabelExtracted writes m's signatures onto the files dpkg has just
// extracted: for each data entry, NAME.dpkg-new at the name dpkg uses (the
// diverted one when another package or the admin diverted NAME). An entry
// without such a file is one dpkg did not extract (path-exclude in
// dpkg.cfg.d, a Multi-Arch: same file identical to the installed one, a
// file another package keeps by Replaces): it is counted as skipped. The
// content check of ApplySignedFile applies to each: a mismatch is reported
// and nothing is written on that file.
func (x Extraction) LabelExtracted(pkg string, m *imasigs.Manifest, lb Labeling) (*PackageResult, error) {
	root := x.Root
	if root == "" {
		root = "/"
	}
	r, err := OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	divs, err := x.diversions()
	if err != nil {
		return nil, err
	}
	// Files are labeled by one worker per CPU (a package of many small
	// files, perl-base, costs syscalls more than hashing); the names of
	// one inode (hard links) go to the same worker, one after the other.
	n := runtime.NumCPU()
	type job struct {
		where string
		e     imasigs.Entry
	}
	jobs := make([][]job, n)
	res := &PackageResult{Package: pkg}
	for _, e := range m.Entries {
		if _, ok := e.IsControl(); ok {
			continue // labeled in tmp.ci by the --control step
		}
		where := actual(divs, pkg, e.Path) + NewSuffix
		ino, ok := r.inode(where)
		if !ok {
			res.Skipped++ // not extracted: path-exclude, shared, kept
			continue
		}
		jobs[ino%uint64(n)] = append(jobs[ino%uint64(n)], job{where, e})
	}
	parts := make([]*PackageResult, n)
	var wg sync.WaitGroup
	for w := range parts {
		parts[w] = &PackageResult{}
		wg.Add(1)
		go func(part *PackageResult, mine []job) {
			defer wg.Done()
			for _, j := range mine {
				part.applyEntry(r, j.where, j.e, lb)
			}
		}(parts[w], jobs[w])
	}
	wg.Wait()
	for _, part := range parts {
		res.Labeled += part.Labeled
		res.Verified += part.Verified
		res.Skipped += part.Skipped
		res.Mismatches = append(res.Mismatches, part.Mismatches...)
	}
	sort.Slice(res.Mismatches, func(i, j int) bool { return res.Mismatches[i].Error() < res.Mismatches[j].Error() })
	return res, nil
}
