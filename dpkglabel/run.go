package dpkglabel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"
	"sync"
)

// Options of a run over dpkg's database.
type Options struct {
	Root    string // "/" or an offline root
	Pending bool   // only packages unpacked and not yet configured
	Workers int    // packages labeled at once; 0: one per CPU
	Out     io.Writer
	Verbose bool // one line per package
	// ListUnsigned prints every regular file no manifest signs.
	ListUnsigned bool
	// Progress, if set, gets a "progress: N/TOTAL packages" line every
	// 100 packages and at the end.
	Progress io.Writer
}

// Summary counts a run.
type Summary struct {
	Packages, Labeled, Verified, Unsigned int
	NoManifest, Mismatches, Missing       int
}

// Run labels the files of the packages in dpkg's database. Output lines
// start with a word a test or an admin can grep: "mismatch", "error",
// "no-manifest", "unsigned", "package", and one "summary" line last.
func Run(o Options) (Summary, error) {
	var sum Summary
	root, err := OpenRoot(o.Root)
	if err != nil {
		return sum, err
	}
	defer root.Close()
	pkgs, divs, err := readDatabase(root)
	if err != nil {
		return sum, err
	}
	var todo []Package
	for _, p := range pkgs {
		if (o.Pending && p.Pending()) || (!o.Pending && p.HasFiles()) {
			todo = append(todo, p)
		}
	}
	// Only files dpkg just unpacked are ever recreated (see Recreator);
	// the shim hashed them when it labeled them.
	var lb Labeling
	if o.Pending {
		lb = Labeling{Recreate: NewRecreator(o.Root), Trusted: true}
	}
	if lb.links, err = newLinkCheck(root); err != nil {
		return sum, err
	}
	n := o.Workers
	if n <= 0 {
		n = runtime.NumCPU()
	}
	results := make([]*PackageResult, len(todo))
	errs := make([]error, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = LabelPackage(root, todo[i], divs, lb)
				if o.Progress != nil {
					mu.Lock()
					if done++; done%100 == 0 || done == len(todo) {
						fmt.Fprintf(o.Progress, "progress: %d/%d packages\n", done, len(todo))
					}
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
	if lb.links != nil {
		byName := map[string]*PackageResult{}
		var waiting []sharedFile
		for _, r := range results {
			if r != nil {
				byName[r.Package] = r
				waiting = append(waiting, r.waiting...)
			}
		}
		labelShared(root, lb, waiting, byName)
	}

	for i, r := range results {
		sum.Packages++
		if errs[i] != nil {
			sum.Mismatches++
			fmt.Fprintf(o.Out, "error %s: %v\n", todo[i].Name, errs[i])
			continue
		}
		sum.Labeled += r.Labeled
		sum.Verified += r.Verified
		sum.Unsigned += len(r.Unsigned)
		sum.Missing += r.Missing
		sum.Mismatches += len(r.Mismatches)
		for _, e := range r.Mismatches {
			fmt.Fprintf(o.Out, "mismatch %s: %v\n", r.Package, e)
		}
		// Only what really has no signature: after a rollback dpkg has put
		// back the old files, with the labels they had.
		if r.NoManifest && r.Unlabeled > 0 {
			sum.NoManifest++
			fmt.Fprintf(o.Out, "no-manifest %s: %d files stay unlabeled (refused under enforcement)\n", r.Package, r.Unlabeled)
		}
		if o.ListUnsigned {
			for _, f := range r.Unsigned {
				fmt.Fprintf(o.Out, "unsigned %s (%s)\n", f, r.Package)
			}
		}
		if o.Verbose {
			fmt.Fprintf(o.Out, "package %s: %d labeled, %d verified, %d unsigned, %d mismatches, %d signed files not on disk\n",
				r.Package, r.Labeled, r.Verified, len(r.Unsigned), len(r.Mismatches), r.Missing)
		}
	}
	fmt.Fprintf(o.Out, "summary: %d packages, %d labeled, %d verified, %d mismatches, %d packages without manifest, %d unsigned files, %d signed files not on disk\n",
		sum.Packages, sum.Labeled, sum.Verified, sum.Mismatches, sum.NoManifest, sum.Unsigned, sum.Missing)
	return sum, nil
}

// readDatabase reads the status and diversions files inside root.
func readDatabase(root *Root) ([]Package, map[string]Diversion, error) {
	st := path.Join(AdminDir, "status")
	f, err := root.openFile(st)
	if err != nil {
		return nil, nil, fmt.Errorf("dpkg status: %w", err)
	}
	pkgs, err := ParseStatus(f, root.Name(st))
	f.Close()
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	dv := path.Join(AdminDir, "diversions")
	divs := map[string]Diversion{}
	if f, err := root.openFile(dv); err == nil {
		divs, err = ParseDiversions(f, root.Name(dv))
		f.Close()
		if err != nil {
			return nil, nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	return pkgs, divs, nil
}
