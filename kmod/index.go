package kmod

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Module is one kernel module of a tree.
type Module struct {
	// Name is the normalised module name ("virtio_blk").
	Name string
	// Path is the module file relative to the module directory, with '/'
	// separators ("kernel/drivers/block/virtio_blk.ko.xz").
	Path string
	// Deps names the modules this one needs, in load order. From
	// modules.dep they are every module needed; from .modinfo only the
	// direct ones.
	Deps []string
	// Builtin is set for modules compiled into the kernel (listed in
	// modules.builtin): nothing to load.
	Builtin bool
}

// Index maps the module names of one module directory to their files and
// dependencies.
type Index struct {
	// Dir is the module directory (…/lib/modules/KVER).
	Dir string
	// FromDepFile tells whether dependencies come from modules.dep (true)
	// or from each module's .modinfo (false).
	FromDepFile bool

	mu      sync.Mutex
	modules map[string]*entry
	builtin map[string]string
}

type entry struct {
	path  string
	deps  []string
	known bool // deps read (always so with modules.dep)
}

// Open indexes the module directory dir. With a modules.dep there it is
// read; otherwise the tree is walked for module files and their .modinfo is
// read later, only for the modules a Resolve reaches.
func Open(dir string) (*Index, error) {
	x := &Index{Dir: dir, modules: map[string]*entry{}, builtin: map[string]string{}}
	if _, err := os.Stat(dir); err != nil {
		// At boot this usually means an initramfs made for another kernel.
		var others []string
		if ents, rerr := os.ReadDir(filepath.Dir(dir)); rerr == nil {
			for _, e := range ents {
				others = append(others, e.Name())
			}
		}
		return nil, fmt.Errorf("open module directory: %w (module trees here: %v)", err, others)
	}
	if err := x.readBuiltin(); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, DepFile))
	switch {
	case err == nil:
		defer f.Close()
		lines, err := parseDep(f, f.Name())
		if err != nil {
			return nil, err
		}
		x.FromDepFile = true
		for _, l := range lines {
			name, ok := NameFromPath(l.path)
			if !ok {
				return nil, fmt.Errorf("read %s: %q is not a module file name", f.Name(), l.path)
			}
			e := &entry{path: l.path, known: true}
			// modprobe loads the last dependency first: reverse into load order.
			for i := len(l.deps) - 1; i >= 0; i-- {
				dn, ok := NameFromPath(l.deps[i])
				if !ok {
					return nil, fmt.Errorf("read %s: %s: %q is not a module file name", f.Name(), l.path, l.deps[i])
				}
				e.deps = append(e.deps, dn)
			}
			x.add(name, e)
		}
		return x, nil
	case errors.Is(err, fs.ErrNotExist):
		return x, x.walk()
	default:
		return nil, fmt.Errorf("open module index: %w", err)
	}
}

// walk finds every module file under Dir (symlinks such as build/ and
// source/ are not followed).
func (x *Index) walk() error {
	found := false
	err := filepath.WalkDir(x.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("index modules: %w", err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		name, ok := NameFromPath(p)
		if !ok {
			return nil
		}
		rel, err := filepath.Rel(x.Dir, p)
		if err != nil {
			return err
		}
		found = true
		x.add(name, &entry{path: filepath.ToSlash(rel)})
		return nil
	})
	if err != nil {
		return err
	}
	if !found && len(x.builtin) == 0 {
		return fmt.Errorf("index modules: no modules.dep and no module files (*.ko, *.ko.xz, *.ko.gz, *.ko.zst) under %s", x.Dir)
	}
	return nil
}

// add records a module; when two files carry one name, the one under
// updates/ wins (as with depmod's default search order), else the first.
func (x *Index) add(name string, e *entry) {
	if old, ok := x.modules[name]; ok {
		if strings.HasPrefix(old.path, "updates/") || !strings.HasPrefix(e.path, "updates/") {
			return
		}
	}
	x.modules[name] = e
}

func (x *Index) readBuiltin() error {
	f, err := os.Open(filepath.Join(x.Dir, BuiltinFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open module index: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if name, ok := NameFromPath(p); ok {
			x.builtin[name] = p
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return nil
}

// Names lists the loadable modules of the index, sorted.
func (x *Index) Names() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	names := make([]string, 0, len(x.modules))
	for n := range x.modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns one module by name ('-' or '_' alike), reading its
// .modinfo when the index has no modules.dep. A module both built in and
// present as a file is reported as the file.
func (x *Index) Lookup(name string) (Module, error) {
	name = Normalize(name)
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.modules[name]
	if !ok {
		if p, ok := x.builtin[name]; ok {
			return Module{Name: name, Path: p, Builtin: true}, nil
		}
		return Module{}, &NotFoundError{Name: name, Dir: x.Dir}
	}
	if !e.known {
		info, err := ReadModinfo(filepath.Join(x.Dir, filepath.FromSlash(e.path)))
		if err != nil {
			return Module{}, err
		}
		e.deps, e.known = dependsOf(info), true
	}
	return Module{Name: name, Path: e.path, Deps: slices.Clone(e.deps)}, nil
}

// NotFoundError says a module is neither a file of the tree nor built in.
type NotFoundError struct {
	Name     string
	Dir      string
	NeededBy string // empty when the module was asked for directly
}

func (e *NotFoundError) Error() string {
	s := fmt.Sprintf("module %s not found in %s", e.Name, e.Dir)
	if e.NeededBy != "" {
		s += " (needed by " + e.NeededBy + ")"
	}
	return s
}
