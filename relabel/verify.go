package relabel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"
)

// Status is the verdict on one label.
type Status string

// Verdicts of Verify.
const (
	StatusOK           Status = "ok"
	StatusMissing      Status = "missing"
	StatusMalformed    Status = "malformed"
	StatusWrongDigest  Status = "wrong-digest"
	StatusUnknownKey   Status = "unknown-key"
	StatusBadSignature Status = "bad-signature"
	StatusUnsupported  Status = "unsupported"   // an algorithm or label version this tool cannot check
	StatusUnchecked    Status = "not-checkable" // EVM HMACs and non-portable EVM signatures: kernel-only
	StatusNone         Status = "none"          // no security.evm (not an error)
	StatusError        Status = "error"         // the file could not be read
)

// VerifyOptions says what Verify checks. Walking follows the same rules as Run.
type VerifyOptions struct {
	Paths            []string
	Root             string
	Keys             *PublicKeys // certificates' keys for signatures (nil: every signature is unknown-key)
	EVMExtraXattrs   []string
	CrossFilesystems bool
	Exclude          []string
	Workers          int
	Progress         func(Progress)
	ProgressInterval time.Duration
}

// FileVerdict is the result for one file.
type FileVerdict struct {
	Path     string `json:"path"`
	IMA      Status `json:"ima"`
	IMALabel string `json:"ima_label,omitempty"`
	EVM      Status `json:"evm"`
	Detail   string `json:"detail,omitempty"`
}

// OK reports whether the file passes: a good IMA label and no bad EVM label.
func (v FileVerdict) OK() bool {
	return v.IMA == StatusOK && (v.EVM == StatusOK || v.EVM == StatusNone || v.EVM == StatusUnchecked)
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Files       int64            `json:"files"`
	Verified    int64            `json:"verified"`
	Failed      int64            `json:"failed"`
	EVMVerified int64            `json:"evm_verified"` // portable EVM signatures that verified
	Skipped     int64            `json:"skipped"`
	ByStatus    map[Status]int64 `json:"ima_by_status"`
	Problems    []FileVerdict    `json:"problems"`
	WalkErrors  []Failure        `json:"walk_errors"`
	Duration    time.Duration    `json:"duration_ns"`
}

// Verify checks the labels of every regular file under o.Paths. The error is about the
// options (or cancellation); per-file verdicts are in the report.
func Verify(ctx context.Context, o VerifyOptions) (VerifyReport, error) {
	ro := Options{Paths: append([]string(nil), o.Paths...), Root: o.Root, CrossFilesystems: o.CrossFilesystems,
		Exclude: o.Exclude, Workers: o.Workers, Progress: o.Progress, ProgressInterval: o.ProgressInterval}
	if err := ro.resolve(); err != nil {
		return VerifyReport{}, err
	}
	keys := o.Keys
	if keys == nil {
		keys = NewPublicKeys()
	}
	start := time.Now()
	rep := VerifyReport{ByStatus: map[Status]int64{}, Problems: []FileVerdict{}, WalkErrors: []Failure{}}
	c := collector{
		skip: func(p, why string) { rep.Skipped++; Debug("skip %s: %s", p, why) },
		fail: func(f Failure) {
			if f.Error != "" && f.Path != "" {
				rep.WalkErrors = append(rep.WalkErrors, f)
			}
		},
		result: func(r fileResult) {
			v := r.verdict
			rep.Files++
			rep.ByStatus[v.IMA]++
			if v.EVM == StatusOK {
				rep.EVMVerified++
			}
			if v.OK() {
				rep.Verified++
			} else {
				rep.Failed++
				rep.Problems = append(rep.Problems, *v)
			}
		},
	}
	err := runWorkers(ctx, &ro, c, func() func(walkItem) fileResult {
		buf := make([]byte, 256<<10)
		return func(it walkItem) fileResult {
			v := verifyFile(it, keys, o.EVMExtraXattrs, buf)
			return fileResult{path: it.path, action: ActionVerified, bytes: it.size, verdict: &v}
		}
	})
	// Walk errors are files that could not be checked: they count as failures.
	rep.Failed += int64(len(rep.WalkErrors))
	sortFailures(rep.WalkErrors)
	sortVerdicts(rep.Problems)
	rep.Duration = time.Since(start)
	return rep, err
}

// verifyFile checks one file's security.ima, then its security.evm.
func verifyFile(it walkItem, keys *PublicKeys, extra []string, buf []byte) FileVerdict {
	v := FileVerdict{Path: it.path, EVM: StatusNone}
	f, _, err := it.open()
	if err != nil {
		v.IMA, v.EVM, v.Detail = StatusError, StatusError, pathFree(err).Error()
		return v
	}
	defer f.Close()
	raw, ok, err := fgetxattr(f, XattrIMA)
	switch {
	case err != nil:
		v.IMA, v.Detail = StatusError, err.Error()
	case !ok:
		v.IMA = StatusMissing
	default:
		v.IMA, v.IMALabel, v.Detail = verifyIMA(f, raw, keys, buf)
	}
	raw, ok, err = fgetxattr(f, XattrEVM)
	switch {
	case err != nil:
		v.EVM, v.Detail = StatusError, joinDetail(v.Detail, err.Error())
	case ok:
		st, d := verifyEVM(f, raw, keys, extra)
		v.EVM, v.Detail = st, joinDetail(v.Detail, d)
	}
	return v
}

func joinDetail(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

func verifyIMA(f *os.File, raw []byte, keys *PublicKeys, buf []byte) (Status, string, string) {
	l, err := ParseLabel(raw)
	if err != nil {
		return StatusMalformed, "", fmt.Sprintf("security.ima %x: %v", raw, err)
	}
	desc := l.String()
	switch l.Type {
	case TypeDigest, TypeDigestNG, TypeSignature:
	default:
		return StatusMalformed, desc, fmt.Sprintf("security.ima cannot be of type %s", l.Type)
	}
	if l.Type == TypeSignature && l.Version != signatureVersion {
		return StatusUnsupported, desc, fmt.Sprintf("signature version %d", l.Version)
	}
	digest, err := hashReader(f, l.Algo, buf)
	if errors.Is(err, ErrUnsupportedAlgo) {
		return StatusUnsupported, desc, err.Error()
	}
	if err != nil {
		return StatusError, desc, fmt.Sprintf("read: %v", err)
	}
	if l.Type != TypeSignature {
		if !bytes.Equal(l.Digest, digest) {
			return StatusWrongDigest, desc, fmt.Sprintf("content hashes to %x", digest)
		}
		return StatusOK, desc, ""
	}
	err = keys.VerifyDigest(l, digest)
	return sigStatus(err), desc, errDetail(err)
}

func sigStatus(err error) Status {
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, ErrUnknownKey):
		return StatusUnknownKey
	case errors.Is(err, ErrBadSignature):
		return StatusBadSignature
	case errors.Is(err, ErrUnsupportedAlgo):
		return StatusUnsupported
	}
	return StatusMalformed
}

func errDetail(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func sortVerdicts(v []FileVerdict) {
	sort.Slice(v, func(i, j int) bool { return v[i].Path < v[j].Path })
}

func verifyEVM(f *os.File, raw []byte, keys *PublicKeys, extra []string) (Status, string) {
	l, err := ParseLabel(raw)
	if err != nil {
		return StatusMalformed, fmt.Sprintf("security.evm %x: %v", raw, err)
	}
	switch l.Type {
	case TypeHMAC, TypeSignature:
		return StatusUnchecked, ""
	case TypePortableSig:
	default:
		return StatusMalformed, fmt.Sprintf("security.evm cannot be of type %s", l.Type)
	}
	if l.Version != signatureVersion {
		return StatusUnsupported, fmt.Sprintf("evm: signature version %d", l.Version)
	}
	in, err := ReadEVMInput(f, extra)
	if err != nil {
		return StatusError, "evm: " + err.Error()
	}
	d, err := in.Digest(l.Algo)
	if err != nil {
		return StatusUnsupported, "evm: " + err.Error()
	}
	err = keys.VerifyDigest(l, d)
	if err != nil {
		return sigStatus(err), "evm: " + err.Error()
	}
	return StatusOK, ""
}
