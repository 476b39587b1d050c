package debsign

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/internal/atomicfile"
	"github.com/imaboot/imaboot/relabel"
)

// Options says how to sign.
type Options struct {
	Signer *relabel.Signer
	Algo   relabel.HashAlgo // default sha256
	// Workers signs digests in parallel (default: the number of CPUs).
	Workers int
}

func (o *Options) defaults() {
	if o.Algo == 0 {
		o.Algo = relabel.AlgoSHA256
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
}

// Result is what signing one package did.
type Result struct {
	Path    string
	Package string // the control file's Package and Version
	Version string
	Signed  int      // manifest entries
	Mutable int      // regular files left unsigned as mutable
	Skipped []string // paths that cannot be listed (a newline in the name)
	Bytes   int64    // content hashed
}

// SignPackage returns the signed package's bytes.
func SignPackage(b []byte, o Options) ([]byte, Result, error) {
	o.defaults()
	var r Result
	p, err := deb.Parse(b)
	if err != nil {
		return nil, r, err
	}
	cfs, err := p.ControlFiles()
	if err != nil {
		return nil, r, err
	}
	var conffiles map[string]bool
	var ctlHeader *tar.Header
	var todo []imasigs.Entry
	for _, cf := range cfs {
		switch {
		case cf.Name == "control":
			ctlHeader = cf.Header
			r.Package, r.Version = controlField(cf.Data, "Package"), controlField(cf.Data, "Version")
		case cf.Name == "conffiles":
			conffiles = parseConffiles(cf.Data)
		}
		if cf.Header.Typeflag == tar.TypeReg && cf.Header.Mode&0o111 != 0 && cf.Name != imasigs.ControlMember {
			d, err := digest(o.Algo, cf.Data)
			if err != nil {
				return nil, r, err
			}
			todo = append(todo, imasigs.Entry{Path: imasigs.ControlPrefix + cf.Name, Algo: o.Algo, Digest: d})
			r.Bytes += int64(len(cf.Data))
		}
	}
	if r.Package == "" {
		return nil, r, fmt.Errorf("%w: %s: control has no Package field", deb.ErrCorrupt, p.ControlMember().Name)
	}

	byPath := map[string][]byte{} // digests of signed regular files, for hard links
	buf := make([]byte, 256<<10)
	h, err := o.Algo.CryptoHash()
	if err != nil {
		return nil, r, err
	}
	hs := h.New()
	err = deb.Walk(p.DataMember(), func(th *tar.Header, name string, rd io.Reader) error {
		path := deb.DataPath(name)
		switch th.Typeflag {
		case tar.TypeReg:
			if th.Mode&0o111 == 0 && (conffiles[path] || strings.HasPrefix(path, "/etc/")) {
				r.Mutable++
				return nil
			}
			hs.Reset()
			n, err := deb.CopyEntry(hs, rd, buf)
			if err != nil {
				return err
			}
			r.Bytes += n
			d := hs.Sum(nil)
			byPath[path] = d
			return add(&r, &todo, path, o.Algo, d)
		case tar.TypeLink:
			if d, ok := byPath[deb.DataPath(th.Linkname)]; ok {
				return add(&r, &todo, path, o.Algo, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, r, err
	}
	if err := signAll(todo, o); err != nil {
		return nil, r, fmt.Errorf("%s: %w", r.Package, err)
	}
	m := &imasigs.Manifest{Entries: todo}
	text, err := m.Marshal()
	if err != nil {
		return nil, r, fmt.Errorf("%s: %w", r.Package, err)
	}
	r.Signed = len(todo)

	out := make([]deb.ControlFile, 0, len(cfs)+1)
	for _, cf := range cfs {
		if cf.Name != imasigs.ControlMember {
			out = append(out, cf)
		}
	}
	out = append(out, deb.ControlFile{Name: imasigs.ControlMember, Data: text, Header: &tar.Header{
		Typeflag: tar.TypeReg, Name: "./" + imasigs.ControlMember, Mode: 0o644,
		Uname: "root", Gname: "root", ModTime: ctlHeader.ModTime, Format: ctlHeader.Format,
	}})
	signed, err := p.WithControl(out)
	return signed, r, err
}

// add queues a path for signing, or records why it cannot be listed.
func add(r *Result, todo *[]imasigs.Entry, path string, algo relabel.HashAlgo, d []byte) error {
	if err := imasigs.ValidPath(path); err != nil {
		r.Skipped = append(r.Skipped, path)
		return nil
	}
	*todo = append(*todo, imasigs.Entry{Path: path, Algo: algo, Digest: d})
	return nil
}

func digest(algo relabel.HashAlgo, b []byte) ([]byte, error) {
	ch, err := algo.CryptoHash()
	if err != nil {
		return nil, err
	}
	h := ch.New()
	h.Write(b)
	return h.Sum(nil), nil
}

// signAll fills in each entry's label, o.Workers at a time.
func signAll(es []imasigs.Entry, o Options) error {
	var wg sync.WaitGroup
	errs := make([]error, o.Workers)
	next := make(chan int)
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range next {
				if errs[w] != nil {
					continue
				}
				l, err := o.Signer.SignLabel(relabel.TypeSignature, o.Algo, es[i].Digest)
				if err != nil {
					errs[w] = fmt.Errorf("sign %s: %w", es[i].Path, err)
				}
				es[i].Label = l
			}
		}(w)
	}
	for i := range es {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// SignFile signs the package at in and writes it to out (which may be in):
// through a temporary file beside out, renamed only once complete, so a
// failure leaves no output and an in-place signing keeps the old package.
func SignFile(in, out string, o Options) (Result, error) {
	b, err := os.ReadFile(in)
	if err != nil {
		return Result{Path: in}, err
	}
	signed, r, err := SignPackage(b, o)
	r.Path = in
	if err != nil {
		return r, fmt.Errorf("%s: %w", in, err)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(in); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := atomicfile.Write(out, signed, mode); err != nil {
		return r, err
	}
	return r, nil
}

// Summary is a signing run's totals.
type Summary struct {
	Packages, Failed, Signed, Mutable int
	Bytes                             int64
	Elapsed                           time.Duration
	Results                           []Result
	Errors                            []error
}
