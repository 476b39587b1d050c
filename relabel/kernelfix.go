package relabel

import (
	"context"
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"
)

// KernelFix is the first-boot path on a kernel booted with "ima_appraise=fix evm=fix"
// and the EVM key loaded, where only the kernel can write what user space cannot (EVM
// HMACs) and the hashes it trusts:
//  1. every regular file under o.Paths is opened and its first byte read, in parallel:
//     the appraisal on open makes the kernel write security.ima (a hash) and
//     security.evm (an HMAC) where they are missing or wrong;
//  2. a file with an IMA signature but no security.evm gets its security.ima set again
//     to the same bytes: kernels up to at least 6.12 add no HMAC to a file whose
//     signature is valid, but do on every security.ima write.
//
// Only Paths, Root, Exclude, CrossFilesystems, Workers, DryRun and Progress are used.
// Summary.Labeled counts the signatures set again, AlreadyLabeled the files left as they
// were; what the kernel then wrote cannot be seen from user space.
func KernelFix(ctx context.Context, o Options) (Summary, error) {
	o.Paths = append([]string(nil), o.Paths...)
	o.Signer, o.EVMPortable = nil, false
	if err := o.resolve(); err != nil {
		return Summary{}, err
	}
	start := time.Now()
	s := Summary{DryRun: o.DryRun, Failures: []Failure{}}
	c := s.collector()
	err := runWorkers(ctx, &o, c, func() func(walkItem) fileResult {
		return func(it walkItem) fileResult { return kernelFixFile(it, o.DryRun) }
	})
	sortFailures(s.Failures)
	s.Duration = time.Since(start)
	return s, err
}

// kernelFixSetxattr is a seam: on the host, ext4 makes an identical write invisible.
var kernelFixSetxattr = unix.Fsetxattr

func kernelFixFile(it walkItem, dryRun bool) fileResult {
	r := fileResult{path: it.path, action: ActionVerified}
	f, _, err := it.open()
	if err != nil {
		r.action, r.err = ActionFailed, pathFree(err)
		return r
	}
	defer f.Close()
	var one [1]byte
	if _, err := f.Read(one[:]); err != nil && err != io.EOF {
		r.action, r.err = ActionFailed, fmt.Errorf("read: %w", err)
		return r
	}
	r.bytes = it.size
	ima, ok, err := fgetxattr(f, XattrIMA)
	if err != nil || !ok || len(ima) == 0 || LabelType(ima[0]) != TypeSignature {
		if err != nil {
			r.action, r.err = ActionFailed, err
		}
		return r
	}
	if _, hasEVM, err := fgetxattr(f, XattrEVM); err != nil || hasEVM {
		if err != nil {
			r.action, r.err = ActionFailed, err
		}
		return r
	}
	if dryRun {
		r.action = ActionWouldSet
		return r
	}
	if err := kernelFixSetxattr(int(f.Fd()), XattrIMA, ima, 0); err != nil {
		r.action, r.err = ActionFailed, fmt.Errorf("set %s again: %w", XattrIMA, err)
		return r
	}
	r.action = ActionLabeled
	return r
}
