package dpkglabel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/relabel"
)

// Options says which packages to label and where.
type Options struct {
	Root    string // "/" or an offline root
	Admin   string // dpkg's admin directory inside Root (default /var/lib/dpkg)
	Pending bool   // only the packages unpacked and not yet configured
	Workers int    // packages labeled at once (default 2)
	// Progress, when set, gets a line per package.
	Progress io.Writer
	// ListUnsigned adds every regular file of a package without manifest to
	// the report.
	ListUnsigned bool
}

// PackageReport is what happened to one package's files.
type PackageReport struct {
	Package     string // info name
	NoManifest  bool
	Labeled     int
	Verified    int      // already labeled
	Missing     int      // listed in the manifest, not on disk (path-exclude, removed)
	Unsigned    []string // with ListUnsigned: regular files of a package without manifest
	UnsignedN   int      // their number
	Mismatches  []string // a file whose content is not the signed one: not labeled
	Failures    []string // other errors
	ControlDone int      // maintainer scripts labeled or verified
}

// Report is a whole run's.
type Report struct {
	Packages                                                             []PackageReport
	Labeled, Verified, Missing, Mismatched, Failed, NoManifest, Unsigned int
}

// OK reports whether nothing was refused or failed (packages without
// manifest are not failures: they are reported).
func (r *Report) OK() bool { return r.Mismatched == 0 && r.Failed == 0 }

// Run labels the files of the selected packages from their manifests.
func Run(o Options) (*Report, error) {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.Admin == "" {
		o.Admin = "/var/lib/dpkg"
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	root, err := os.Open(o.Root)
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	defer root.Close()
	admin := filepath.Join(o.Root, o.Admin)
	pkgs, err := ReadStatus(filepath.Join(admin, "status"))
	if err != nil {
		return nil, err
	}
	div, err := ReadDiversions(filepath.Join(admin, "diversions"))
	if err != nil {
		return nil, err
	}
	var todo []Package
	for _, p := range pkgs {
		if p.Installed() && (!o.Pending || p.Pending()) {
			todo = append(todo, p)
		}
	}
	reports := make([]PackageReport, len(todo))
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := make(chan int)
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for i := range next {
				reports[i] = labelPackage(int(root.Fd()), admin, todo[i], div, o, buf)
				if o.Progress != nil {
					mu.Lock()
					PrintPackage(o.Progress, &reports[i])
					mu.Unlock()
				}
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	rep := &Report{Packages: reports}
	for _, p := range reports {
		rep.Labeled += p.Labeled + p.ControlDone
		rep.Verified += p.Verified
		rep.Missing += p.Missing
		rep.Mismatched += len(p.Mismatches)
		rep.Failed += len(p.Failures)
		rep.Unsigned += p.UnsignedN
		if p.NoManifest {
			rep.NoManifest++
		}
	}
	return rep, nil
}

func PrintPackage(w io.Writer, p *PackageReport) {
	if p.NoManifest {
		fmt.Fprintf(w, "imaboot-relabel: warning: %s: no IMA signature manifest (%s.imasigs): %d files left unsigned; under enforcement they are refused\n", p.Package, p.Package, p.UnsignedN)
		for _, f := range p.Unsigned {
			fmt.Fprintf(w, "  unsigned: %s\n", f)
		}
		return
	}
	fmt.Fprintf(w, "imaboot-relabel: %s: %d labeled, %d already labeled, %d missing\n", p.Package, p.Labeled+p.ControlDone, p.Verified, p.Missing)
	for _, m := range p.Mismatches {
		fmt.Fprintf(w, "imaboot-relabel: error: %s: %s\n", p.Package, m)
	}
	for _, m := range p.Failures {
		fmt.Fprintf(w, "imaboot-relabel: error: %s: %s\n", p.Package, m)
	}
}

// readManifest reads a manifest; a missing one is (nil, nil).
func readManifest(path string) (*imasigs.Manifest, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := imasigs.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func labelPackage(rootFD int, admin string, p Package, div Diversions, o Options, buf []byte) PackageReport {
	r := PackageReport{Package: p.InfoName()}
	m, err := readManifest(infoPath(admin, r.Package, imasigs.ControlMember))
	if err != nil {
		r.Failures = append(r.Failures, err.Error())
		return r
	}
	if m == nil {
		r.NoManifest = true
		r.Unsigned, r.UnsignedN = unsignedFiles(rootFD, admin, r.Package, o.ListUnsigned)
		return r
	}
	for _, e := range m.Entries {
		var rel string
		if name, ok := e.IsControl(); ok {
			rel = strings.TrimPrefix(infoPath(strings.TrimPrefix(o.Admin, "/"), r.Package, name), "/")
			if name == "imasigs" || !isScript(name) {
				continue
			}
		} else {
			rel = strings.TrimPrefix(div.Where(p.Name, e.Path), "/")
		}
		act, err := applyAt(rootFD, rel, e, buf)
		switch {
		case err == nil && act == relabel.ActionVerified:
			r.Verified++
		case err == nil && e.Path[0] != '/':
			r.ControlDone++
		case err == nil:
			r.Labeled++
		case errors.Is(err, unix.ENOENT) && e.Path[0] != '/':
			// A maintainer script dpkg did not keep (none of that kind).
		case errors.Is(err, unix.ENOENT):
			r.Missing++
		case errors.Is(err, relabel.ErrDigestMismatch), errors.Is(err, relabel.ErrChanged):
			r.Mismatches = append(r.Mismatches, err.Error())
		default:
			r.Failures = append(r.Failures, err.Error())
		}
	}
	return r
}

// isScript names the control members dpkg keeps and runs.
func isScript(name string) bool {
	switch name {
	case "preinst", "postinst", "prerm", "postrm", "config":
		return true
	}
	return false
}

// openInRoot opens rel under the root directory fd, resolving every
// symlink inside it and not following a final symlink.
func openInRoot(rootFD int, rel string) (*os.File, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NOCTTY | unix.O_NONBLOCK | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(rootFD, rel, &how)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: "/" + rel, Err: err}
	}
	return os.NewFile(uintptr(fd), "/"+rel), nil
}

func applyAt(rootFD int, rel string, e imasigs.Entry, buf []byte) (relabel.Action, error) {
	f, err := openInRoot(rootFD, rel)
	if err != nil {
		return relabel.ActionFailed, err
	}
	defer f.Close()
	return relabel.ApplyLabelFile(f, e.Algo, e.Digest, e.Label, buf)
}

// unsignedFiles lists the regular files of a package's .list.
func unsignedFiles(rootFD int, admin, infoName string, list bool) ([]string, int) {
	f, err := os.Open(infoPath(admin, infoName, "list"))
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	var out []string
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := sc.Text()
		f, err := openInRoot(rootFD, strings.TrimPrefix(p, "/"))
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		f.Close()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		n++
		if list {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, n
}
