package debsign

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// FindDebs lists the .deb files of paths: files as given, directories
// walked recursively. Sorted, each once.
func FindDebs(paths []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".deb") && !seen[path] {
				seen[path] = true
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// RunOptions adds to Options what a run over many packages needs.
type RunOptions struct {
	Options
	// OutDir receives the signed packages under their names; empty: in place.
	OutDir string
	// Jobs packages are read and hashed at once (default: Workers).
	Jobs int
	// Progress, when set, gets one line per package done.
	Progress io.Writer
}

// Run signs every package of debs; a package that fails is reported in the
// summary and leaves no output, the others go on.
func Run(ctx context.Context, debs []string, o RunOptions) Summary {
	o.defaults()
	if o.Jobs <= 0 {
		o.Jobs = o.Workers
	}
	t0 := time.Now()
	var s Summary
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	for j := 0; j < o.Jobs; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range next {
				out := in
				if o.OutDir != "" {
					out = filepath.Join(o.OutDir, filepath.Base(in))
				}
				r, err := SignFile(in, out, o.Options)
				mu.Lock()
				s.Packages++
				if err != nil {
					s.Failed++
					s.Errors = append(s.Errors, err)
				} else {
					s.Signed += r.Signed
					s.Mutable += r.Mutable
					s.Bytes += r.Bytes
					s.Results = append(s.Results, r)
				}
				if o.Progress != nil {
					if err != nil {
						fmt.Fprintf(o.Progress, "[%d/%d] FAILED %v\n", s.Packages, len(debs), err)
					} else {
						fmt.Fprintf(o.Progress, "[%d/%d] %s %s: %d files signed, %d mutable left unsigned\n", s.Packages, len(debs), r.Package, r.Version, r.Signed, r.Mutable)
						for _, p := range r.Skipped {
							fmt.Fprintf(o.Progress, "  warning: %s: %q has a newline in its name: not signed\n", r.Package, p)
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range debs {
		if ctx.Err() != nil {
			break
		}
		next <- d
	}
	close(next)
	wg.Wait()
	sort.Slice(s.Results, func(i, j int) bool { return s.Results[i].Path < s.Results[j].Path })
	s.Elapsed = time.Since(t0)
	return s
}
