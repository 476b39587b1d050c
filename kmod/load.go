package kmod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Params holds module parameters by module name ("foo=1 bar=x").
	Params map[string]string
	// Finit loads one module file; nil means finit_module(2). Tests set it
	// to see the order and flags without loading anything.
	Finit func(f *os.File, params string, flags int) error
	// Debug, when set, is told about each module as it is loaded.
	Debug func(format string, args ...any)
}

// LoadStatus says what Load did with one module.
type LoadStatus string

const (
	Loaded        LoadStatus = "loaded"
	AlreadyLoaded LoadStatus = "already-loaded" // finit_module said EEXIST
	BuiltIn       LoadStatus = "built-in"       // nothing to load
)

// LoadResult reports one module of a Load.
type LoadResult struct {
	Name     string
	Path     string // absolute file, or the modules.builtin path
	Status   LoadStatus
	Duration time.Duration
}

// Load loads the modules named, with their dependencies, from modDir (at
// boot /lib/modules/$(uname -r)), reading its modules.dep (or, without one,
// each module's .modinfo). Modules are loaded with finit_module so that an
// IMA MODULE_CHECK rule can appraise the file; compressed files are passed
// with MODULE_INIT_COMPRESSED_FILE for the kernel to decompress. A module
// already loaded (EEXIST) is fine. Load stops at the first failure and
// returns what it did up to there with the error, which keeps the errno.
func Load(modDir string, names []string, opts LoadOptions) ([]LoadResult, error) {
	x, err := Open(modDir)
	if err != nil {
		return nil, err
	}
	mods, err := x.Resolve(names)
	if err != nil {
		return nil, err
	}
	finit := opts.Finit
	if finit == nil {
		finit = func(f *os.File, params string, flags int) error {
			return unix.FinitModule(int(f.Fd()), params, flags)
		}
	}
	var done []LoadResult
	for _, m := range mods {
		if m.Builtin {
			done = append(done, LoadResult{Name: m.Name, Path: m.Path, Status: BuiltIn})
			continue
		}
		r, err := loadOne(filepath.Join(modDir, filepath.FromSlash(m.Path)), m.Name, opts.Params[m.Name], finit)
		if err != nil {
			return done, err
		}
		if opts.Debug != nil {
			opts.Debug("kmod: %s %s in %v", m.Name, r.Status, r.Duration)
		}
		done = append(done, r)
	}
	return done, nil
}

func loadOne(file, name, params string, finit func(*os.File, string, int) error) (LoadResult, error) {
	start := time.Now()
	r := LoadResult{Name: name, Path: file, Status: Loaded}
	f, err := os.Open(file)
	if err != nil {
		return r, fmt.Errorf("load module %s: %w", name, err)
	}
	defer f.Close()
	flags := 0
	if IsCompressed(file) {
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	err = finit(f, params, flags)
	r.Duration = time.Since(start)
	switch {
	case err == nil:
	case errors.Is(err, unix.EEXIST):
		r.Status = AlreadyLoaded
	default:
		return r, fmt.Errorf("load module %s (%s): finit_module: %w%s", name, file, err, loadHint(err, flags))
	}
	return r, nil
}

// loadHint adds the usual cause of a finit_module errno (the compressed
// cases as seen on Debian's 6.1 and 6.12 kernels).
func loadHint(err error, flags int) string {
	compressed := flags&unix.MODULE_INIT_COMPRESSED_FILE != 0
	switch {
	case compressed && errors.Is(err, unix.EOPNOTSUPP):
		return " (this kernel cannot decompress modules (no MODULE_DECOMPRESS): include the module uncompressed)"
	case compressed && errors.Is(err, unix.EINVAL):
		return " (the kernel could not decompress it: a corrupt file or a compression this kernel does not read)"
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM), errors.Is(err, unix.EKEYREJECTED):
		return " (refused: IMA appraisal, module signature policy or missing privilege)"
	case errors.Is(err, unix.ENOEXEC):
		return " (not a valid module for this kernel: corrupt, or built for another version or architecture)"
	case errors.Is(err, unix.ENOENT):
		return " (a symbol it needs is missing: a dependency not loaded?)"
	}
	return ""
}
