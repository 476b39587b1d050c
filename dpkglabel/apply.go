package dpkglabel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/relabel"
)

// AdminDir is dpkg's database inside the root.
const AdminDir = "/var/lib/dpkg"

// Scripts are the maintainer scripts dpkg keeps in its info directory and
// executes directly.
var Scripts = []string{"preinst", "postinst", "prerm", "postrm", "config"}

// PackageResult is what happened to one package's files.
type PackageResult struct {
	Package    string // as dpkg names its info files: NAME or NAME:ARCH
	NoManifest bool   // no PKG.imasigs: its files stay unlabeled
	Labeled    int    // labels written
	Verified   int    // labels already in place
	Skipped    int    // signed files dpkg did not extract (LabelExtracted)
	Unsigned   []string
	Mismatches []error // content did not match, or the file could not be read
}

// Failed reports whether a signed file could not be labeled.
func (r *PackageResult) Failed() bool { return len(r.Mismatches) > 0 }

// infoName finds the name dpkg gives p's info files (NAME:ARCH for
// Multi-Arch: same, NAME otherwise).
func infoName(root *Root, p Package) string {
	if p.MultiArch == "same" && p.Arch != "" {
		return p.Name + ":" + p.Arch
	}
	return p.Name
}

// readManifest reads info/NAME.imasigs; nil without error if there is none.
func readManifest(root *Root, info string) (*imasigs.Manifest, error) {
	p := path.Join(AdminDir, "info", info+"."+imasigs.ControlMember)
	b, err := root.readFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := imasigs.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root.Name(p), err)
	}
	return m, nil
}

// applyEntry labels the file at where (inside root) from e.
func (res *PackageResult) applyEntry(root *Root, where string, e imasigs.Entry) {
	f, err := root.openFile(where)
	if err != nil {
		if errors.Is(err, errNotRegular) {
			err = fmt.Errorf("%s: %w", root.Name(where), err)
		}
		res.Mismatches = append(res.Mismatches, err)
		return
	}
	defer f.Close()
	res.applyFile(f, e)
}

// applyFile labels the open file f from e.
func (res *PackageResult) applyFile(f *os.File, e imasigs.Entry) {
	wrote, err := relabel.ApplySignedFile(f, e.Algo, e.Digest, e.Label)
	switch {
	case err != nil:
		res.Mismatches = append(res.Mismatches, err)
	case wrote:
		res.Labeled++
	default:
		res.Verified++
	}
}

// LabelPackage labels p's files (PKG.list, diversions followed) and its
// maintainer scripts in the info directory from its manifest.
func LabelPackage(root *Root, p Package, divs map[string]Diversion) (*PackageResult, error) {
	info := infoName(root, p)
	res := &PackageResult{Package: info}
	list, err := root.readFile(path.Join(AdminDir, "info", info+".list"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	m, err := readManifest(root, info)
	if err != nil {
		return nil, err
	}
	for _, file := range strings.Split(string(list), "\n") {
		if file == "" || file == "/." {
			continue
		}
		where := actual(divs, p.Name, file)
		if m != nil {
			if e, ok := m.Lookup(file); ok {
				res.applyEntry(root, where, e)
				continue
			}
		}
		if f, err := root.openFile(where); err == nil {
			f.Close()
			res.Unsigned = append(res.Unsigned, root.Name(where))
		}
	}
	for _, s := range Scripts {
		where := path.Join(AdminDir, "info", info+"."+s)
		if m != nil {
			if e, ok := m.Lookup(imasigs.ControlPrefix + s); ok {
				res.applyEntry(root, where, e)
				continue
			}
		}
		if f, err := root.openFile(where); err == nil {
			f.Close()
			res.Unsigned = append(res.Unsigned, root.Name(where))
		}
	}
	res.NoManifest = m == nil
	return res, nil
}

// LabelControlDir labels the control members extracted into dir (by
// dpkg-deb --control) from dir/imasigs, if there is one. It returns the
// number of labels written and the members that could not be labeled.
func LabelControlDir(dir string) (int, []error, error) {
	root, err := OpenRoot(dir)
	if err != nil {
		return 0, nil, err
	}
	defer root.Close()
	b, err := root.readFile("/" + imasigs.ControlMember)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	m, err := imasigs.Parse(bytes.NewReader(b))
	if err != nil {
		return 0, nil, fmt.Errorf("%s/%s: %w", dir, imasigs.ControlMember, err)
	}
	res := &PackageResult{}
	for _, e := range m.Entries {
		if name, ok := e.IsControl(); ok {
			res.applyEntry(root, "/"+name, e)
		}
	}
	return res.Labeled, res.Mismatches, nil
}
