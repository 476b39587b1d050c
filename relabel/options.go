package relabel

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Options says what Run labels and how.
type Options struct {
	// Paths to label: files or directories, walked recursively. A symlink
	// given here is followed (as find -H does); none under it is.
	Paths []string
	// Root is the target system's root (default "/"): dpkg's conffiles are read under
	// it, and mutable and exclude patterns also match paths relative to it, so a mounted
	// image can be labeled as its own system will see it.
	Root string
	// Algo is the hash algorithm of digests and signatures (default sha256).
	Algo HashAlgo
	// Signer, when set, signs immutable files (--sign); nil writes hashes only.
	Signer *Signer
	// EVMPortable adds portable EVM signatures to signed files (needs Signer).
	EVMPortable bool
	// EVMExtraXattrs are protected xattr names added to the kernel's list at run time
	// (/sys/kernel/security/integrity/evm/evm_xattrs), hashed after EVMXattrs.
	EVMExtraXattrs []string
	// Mutable files get hashes even when signing (executable ones are still signed).
	Mutable *MutableSet
	// CrossFilesystems descends into other file systems (pseudo ones are always skipped).
	CrossFilesystems bool
	// Exclude patterns (see the command's --exclude).
	Exclude []string
	// Workers hashing and signing in parallel (default: all cores).
	Workers int
	// Force rewrites labels that already verify.
	Force bool
	// ReplaceSignatures lets a hash replace an IMA signature, and a new
	// security.ima drop the EVM signature over the old one. Without it such
	// files are left as they were and counted in Summary.SignaturesKept.
	ReplaceSignatures bool
	// DryRun reads and hashes but writes nothing.
	DryRun bool
	// Retries of a file that changed while it was read (default 3).
	Retries int
	// Progress, when set, is called about every ProgressInterval (default 200 ms) and
	// once at the end, from one goroutine.
	Progress         func(Progress)
	ProgressInterval time.Duration

	// afterHash is a test seam: called between hashing a file and checking that it
	// did not change.
	afterHash func(path string)
	// settle is how recent a change must be for the file to count as being written
	// (default 20 ms, a few timestamp ticks); tests shorten it.
	settle time.Duration
}

// Progress is a snapshot of a run.
type Progress struct {
	Files      int64 // files done (labeled, skipped as already labeled, or failed)
	Bytes      int64 // bytes hashed
	Found      int64 // regular files found so far
	FoundBytes int64
	WalkDone   bool // Found and FoundBytes are final
	Elapsed    time.Duration
}

func (o *Options) resolve() error {
	if len(o.Paths) == 0 {
		return fmt.Errorf("no path to label")
	}
	if o.Root == "" {
		o.Root = "/"
	}
	r, err := filepath.Abs(o.Root)
	if err != nil {
		return err
	}
	o.Root = r
	if fi, err := os.Stat(r); err != nil || !fi.IsDir() {
		return fmt.Errorf("target root %s: not a directory (%v)", r, err)
	}
	for i, p := range o.Paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		if _, err := os.Stat(a); err != nil {
			return err // stat names the path
		}
		o.Paths[i] = a
	}
	if o.Algo == 0 {
		o.Algo = AlgoSHA256
	}
	if _, err := o.Algo.CryptoHash(); err != nil {
		return err
	}
	if o.Signer != nil {
		// Sign once now so an algorithm the key cannot use fails before any file is touched.
		ch, _ := o.Algo.CryptoHash()
		if _, err := o.Signer.Sign(o.Algo, make([]byte, ch.Size())); err != nil {
			return fmt.Errorf("signing key cannot sign %s digests: %w", o.Algo, err)
		}
	}
	if o.EVMPortable && o.Signer == nil {
		return fmt.Errorf("portable EVM signatures need a signing key")
	}
	for _, p := range o.Exclude {
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("exclude pattern %q: %w", p, err)
		}
	}
	for _, n := range o.EVMExtraXattrs {
		if !strings.HasPrefix(n, "security.") || len(n) == len("security.") {
			return fmt.Errorf("EVM-protected xattr %q: the kernel protects only security.* names", n)
		}
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 200 * time.Millisecond
	}
	if o.settle == 0 {
		o.settle = 20 * time.Millisecond
	}
	return nil
}
