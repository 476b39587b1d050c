package dpkglabel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

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
	Package    string   // as dpkg names its info files: NAME or NAME:ARCH
	NoManifest bool     // no PKG.imasigs: its files stay unlabeled
	Labeled    int      // labels written
	Verified   int      // labels already in place
	Skipped    int      // signed files dpkg did not extract (LabelExtracted)
	Missing    int      // signed files of PKG.list that are not on disk
	Unsigned   []string // regular files no manifest entry signs
	// Unlabeled counts the Unsigned files that carry no signature label
	// either (a file restored by dpkg's rollback keeps the one it had).
	Unlabeled  int
	Mismatches []error // content did not match, or the file could not be read
	// waiting are signed files with several hard links, labeled once the
	// whole run has counted their names (links.go).
	waiting []sharedFile
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
	return parseManifest(b, err, root.Name(p))
}

// parseManifest parses the manifest read from name (b, err: the read's
// result); a manifest that is not there is nil without error.
func parseManifest(b []byte, err error, name string) (*imasigs.Manifest, error) {
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := imasigs.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// Labeling says how signatures are put on files.
type Labeling struct {
	// Recreate, when not nil, replaces the files that the EVM HMAC key
	// keeps from being labeled in place by labeled copies.
	Recreate *Recreator
	// Trusted counts a file whose security.ima already is the signed value
	// as verified without hashing it again: the post-invoke check after
	// the shim, which hashed every file when it labeled it.
	Trusted bool
	// links, when set (a root that is part of a file system), holds back
	// files with several hard links for Run's link count check.
	links *linkCheck
}

// applyEntry labels the file at where (inside root) from e, or puts it in
// res.waiting when lb.links says its inode has several links.
func (res *PackageResult) applyEntry(root *Root, where string, e imasigs.Entry, lb Labeling) {
	f, err := root.openFile(where)
	if err != nil {
		if errors.Is(err, errNotRegular) {
			err = fmt.Errorf("%s: %w", root.Name(where), err)
		}
		res.Mismatches = append(res.Mismatches, err)
		return
	}
	defer f.Close()
	if s, shared := lb.links.saw(f, where); shared {
		s.pkg, s.entry = res.Package, e
		res.waiting = append(res.waiting, s)
		return
	}
	res.applyFile(root, where, f, e, lb)
}

// applyFile labels f, open at where inside root, from e.
func (res *PackageResult) applyFile(root *Root, where string, f *os.File, e imasigs.Entry, lb Labeling) {
	if lb.Trusted && hasLabel(f, e.Label) {
		res.Verified++
		return
	}
	if lb.Recreate != nil && needsCopy(f) {
		if err := lb.Recreate.recreate(root, where, f, e); err != nil {
			res.Mismatches = append(res.Mismatches, err)
			return
		}
		res.Labeled++
		return
	}
	wrote, err := relabel.ApplySignedFile(f, e.Algo, e.Digest, e.Label)
	switch {
	case err != nil:
		if errors.Is(err, unix.EPERM) && EVMHMACLoaded() {
			err = fmt.Errorf("%w: %v", err, errEVMRefused)
		}
		res.Mismatches = append(res.Mismatches, err)
	case wrote:
		res.Labeled++
	default:
		res.Verified++
	}
}

// hasLabel reports whether f's security.ima is label.
func hasLabel(f *os.File, label []byte) bool {
	buf := make([]byte, len(label)+1)
	n, err := unix.Fgetxattr(int(f.Fd()), relabel.XattrIMA, buf)
	return err == nil && bytes.Equal(buf[:n], label)
}

// readConffiles reads info/PKG.conffiles ("PATH" or "FLAG PATH" lines).
func readConffiles(root *Root, info string) map[string]bool {
	b, _ := root.readFile(path.Join(AdminDir, "info", info+".conffiles"))
	out := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, "/"); i >= 0 {
			out[l[i:]] = true
		}
	}
	return out
}

// noteUnsigned records where, a file no manifest entry signs, if it is a
// regular file, and whether it lacks a signature label.
func (res *PackageResult) noteUnsigned(root *Root, where string, lc *linkCheck) {
	f, err := root.openFile(where)
	if err != nil {
		return
	}
	defer f.Close()
	lc.saw(f, where) // a name of its inode, for the link count check
	res.Unsigned = append(res.Unsigned, root.Name(where))
	buf := make([]byte, 4096)
	if n, err := unix.Fgetxattr(int(f.Fd()), relabel.XattrIMA, buf); err != nil || n == 0 || buf[0] != byte(relabel.TypeSignature) {
		res.Unlabeled++
	}
}

// LabelPackage labels p's files (PKG.list, diversions followed) and its
// maintainer scripts in the info directory from its manifest.
func LabelPackage(root *Root, p Package, divs map[string]Diversion, lb Labeling) (*PackageResult, error) {
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
	conffiles := readConffiles(root, info)
	for _, file := range strings.Split(string(list), "\n") {
		if file == "" || file == "/." {
			continue
		}
		where := actual(divs, p.Name, file)
		if m != nil {
			if e, ok := m.Lookup(file); ok {
				// A new conffile waits as NAME.dpkg-new until --configure.
				if conffiles[file] && root.exists(where+NewSuffix) {
					where += NewSuffix
				}
				if !root.exists(where) {
					// Not on disk: excluded by path-exclude, removed by the
					// admin; nothing there can run unlabeled.
					res.Missing++
					continue
				}
				res.applyEntry(root, where, e, lb)
				continue
			}
		}
		res.noteUnsigned(root, where, lb.links)
	}
	for _, s := range Scripts {
		where := path.Join(AdminDir, "info", info+"."+s)
		if m != nil {
			if e, ok := m.Lookup(imasigs.ControlPrefix + s); ok {
				res.applyEntry(root, where, e, lb)
				continue
			}
		}
		res.noteUnsigned(root, where, lb.links)
	}
	res.NoManifest = m == nil
	return res, nil
}

// LabelControlDir labels the control members extracted into dir (by
// dpkg-deb --control) from dir/imasigs, if there is one. It returns the
// number of labels written and the members that could not be labeled.
func LabelControlDir(dir string, lb Labeling) (int, []error, error) {
	root, err := OpenRoot(dir)
	if err != nil {
		return 0, nil, err
	}
	defer root.Close()
	b, err := root.readFile("/" + imasigs.ControlMember)
	m, err := parseManifest(b, err, root.Name("/"+imasigs.ControlMember))
	if m == nil || err != nil {
		return 0, nil, err
	}
	res := &PackageResult{}
	for _, e := range m.Entries {
		if name, ok := e.IsControl(); ok {
			res.applyEntry(root, "/"+name, e, lb)
		}
	}
	return res.Labeled, res.Mismatches, nil
}
