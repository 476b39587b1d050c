package keyload

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// CertResult is what happened to one certificate (or to one file that did
// not parse).
type CertResult struct {
	File string
	// Cert is zero when the file did not parse.
	Cert Certificate
	// Key is the kernel key serial once loaded.
	Key int
	// Err is nil when loaded: a *ParseError or a *LoadError.
	Err error
}

// Loaded reports whether the kernel took the certificate.
func (r CertResult) Loaded() bool { return r.Err == nil && r.Key != 0 }

func (r CertResult) String() string {
	if r.Err != nil {
		return "rejected " + r.Err.Error()
	}
	s := fmt.Sprintf("loaded %s as key %d", r.Cert, r.Key)
	if w := r.Cert.Warning(); w != "" {
		s += "; warning: " + w
	}
	return s
}

// LoadError is a certificate the kernel refused.
type LoadError struct {
	Cert   Certificate
	Ring   KernelKeyring
	Errno  unix.Errno
	Reason string // what the errno means here
	Err    error
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("certificate %s: add to %s: %s (%s)", e.Cert, e.Ring, unix.ErrnoName(e.Errno), e.Reason)
}

func (e *LoadError) Unwrap() error { return e.Err }

// CertReport lists every certificate tried for one keyring.
type CertReport struct {
	Ring    KernelKeyring
	Sources []string // directories and files read
	Results []CertResult
}

// Loaded counts the certificates the kernel took.
func (r CertReport) Loaded() int {
	n := 0
	for _, res := range r.Results {
		if res.Loaded() {
			n++
		}
	}
	return n
}

// Err joins every rejection, or nil.
func (r CertReport) Err() error {
	var errs []error
	for _, res := range r.Results {
		if res.Err != nil {
			errs = append(errs, res.Err)
		}
	}
	return errors.Join(errs...)
}

// Lines is one line per certificate, for the console and the status file.
func (r CertReport) Lines() []string {
	lines := make([]string, 0, len(r.Results))
	for _, res := range r.Results {
		lines = append(lines, res.String())
	}
	return lines
}

// Summary is one line: how many loaded into which keyring from where.
func (r CertReport) Summary() string {
	failed := len(r.Results) - r.Loaded()
	return fmt.Sprintf("%d certificate(s) loaded into %s from %s, %d rejected", r.Loaded(), r.Ring, strings.Join(r.Sources, ", "), failed)
}

// MinLoaded fails when fewer than min certificates loaded, so that an empty
// or unreadable certificate directory does not leave an appraising system
// with no keys (every signed file refused, or worse, a policy left out).
func (r CertReport) MinLoaded(min int) error {
	if n := r.Loaded(); n < min {
		return fmt.Errorf("%d certificate(s) loaded into %s from %s, at least %d required", n, r.Ring, strings.Join(r.Sources, ", "), min)
	}
	return nil
}

// Load adds every parsed certificate to ring, in order, and returns the
// report of all of them (files that did not parse included) with the
// joined rejections as error.
func (s CertSet) Load(ring KernelKeyring) (CertReport, error) {
	report := CertReport{Ring: ring, Sources: s.Sources, Results: make([]CertResult, 0, len(s.Results))}
	for _, r := range s.Results {
		if r.Err == nil {
			r = certAdd(r.Cert, ring)
		}
		report.Results = append(report.Results, r)
	}
	return report, report.Err()
}

// certAdd hands the DER to the kernel's asymmetric key type. The kernel
// names the key "<subject>: <SKI or serial>" itself (empty description).
func certAdd(c Certificate, ring KernelKeyring) CertResult {
	id, err := unix.AddKey("asymmetric", "", c.DER, ring.ID)
	if err != nil {
		errno := ringErrno(err)
		return CertResult{File: c.File, Cert: c, Err: &LoadError{
			Cert: c, Ring: ring, Errno: errno, Reason: certRejectReason(errno, ring), Err: err,
		}}
	}
	return CertResult{File: c.File, Cert: c, Key: id}
}

// certRejectReason explains add_key's errno for an X.509 certificate
// (crypto/asymmetric_keys, security/keys, restrict_link_by_signature).
func certRejectReason(errno unix.Errno, ring KernelKeyring) string {
	if ring.CA != nil {
		switch errno {
		case unix.ENOKEY:
			return fmt.Sprintf("not signed by the owner's CA %q, key id %s, the only signer this keyring accepts", ring.CA.Subject, ring.CA.ID)
		case unix.EKEYREJECTED:
			return fmt.Sprintf("signature does not verify against the owner's CA %q, key id %s (or a bad self-signature)", ring.CA.Subject, ring.CA.ID)
		}
	}
	switch errno {
	case unix.ENOKEY:
		return "not signed by a key in .builtin_trusted_keys/.secondary_trusted_keys"
	case unix.EKEYREJECTED:
		if ring.Trusted {
			return "signature does not verify against the trusted key that should have signed it, or a bad self-signature"
		}
		return "bad self-signature or signature"
	case unix.EBADMSG:
		return "the kernel's X.509 parser refused the certificate (malformed ASN.1)"
	case unix.ENOPKG, unix.ENOENT:
		// ENOENT: crypto_alloc_sig found no implementation while checking
		// the self-signature (seen for ECDSA on a kernel without it).
		return "the kernel lacks the key or signature algorithm (not built in, or its module not loaded; Debian's 6.1 kernels have no ECDSA)"
	case unix.EPERM, unix.EACCES:
		return "not allowed to add to this keyring (restricted or no write permission)"
	case unix.EDQUOT:
		return "key quota exceeded"
	case unix.EINVAL:
		return "payload is not a certificate the kernel understands"
	case unix.ENOMEM:
		return "kernel out of memory"
	}
	return errno.Error()
}
