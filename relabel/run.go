package relabel

import (
	"context"
	"sync"
	"time"
)

// Failure is one file that could not be labeled (or verified), with the reason.
type Failure struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Summary is the outcome of Run.
type Summary struct {
	Files          int64         `json:"files"`           // regular files handled
	Bytes          int64         `json:"bytes"`           // bytes hashed
	Labeled        int64         `json:"labeled"`         // files whose labels were written
	Signed         int64         `json:"signed"`          // files labeled or left with an IMA signature
	EVMSigned      int64         `json:"evm_signed"`      // portable EVM signatures written
	AlreadyLabeled int64         `json:"already_labeled"` // labels already right, left alone
	WouldLabel     int64         `json:"would_label"`     // dry run: files that would be written
	HardLinks      int64         `json:"hard_links"`      // further names of inodes handled under another name
	SignaturesKept int64         `json:"signatures_kept"` // left alone: a hash would have replaced a signature
	Mutable        int64         `json:"mutable"`         // signing run: hashed, not signed, as mutable files
	Skipped        int64         `json:"skipped"`         // symlinks, special files, other or pseudo file systems, excluded
	Failed         int64         `json:"failed"`
	Failures       []Failure     `json:"failures"`
	DryRun         bool          `json:"dry_run"`
	Duration       time.Duration `json:"duration_ns"`
}

// Debug receives one line per skipped path; silent unless a caller sets it.
var Debug = func(format string, args ...any) {}

// Run labels every regular file under o.Paths. It returns an error, before touching any
// file, when the options cannot work (missing path, unusable key or algorithm); per-file
// problems are in Summary.Failures, and the run goes on. The error is ctx's when the
// run was cancelled.
func Run(ctx context.Context, o Options) (Summary, error) {
	o.Paths = append([]string(nil), o.Paths...)
	if err := o.resolve(); err != nil {
		return Summary{}, err
	}
	start := time.Now()
	s := Summary{DryRun: o.DryRun, Failures: []Failure{}}
	c := s.collector()
	links := &sync.Map{}
	err := runWorkers(ctx, &o, c, func() func(walkItem) fileResult { return newLabeler(&o, links).label })
	sortFailures(s.Failures)
	s.Duration = time.Since(start)
	return s, err
}

// collector counts each file's outcome into s; Run and KernelFix share it.
func (s *Summary) collector() collector {
	return collector{
		skip: func(p, why string) { s.Skipped++; Debug("skip %s: %s", p, why) },
		fail: func(f Failure) { s.Failed++; s.Failures = append(s.Failures, f) },
		result: func(r fileResult) {
			s.Files++
			s.Bytes += r.bytes
			switch r.action {
			case ActionLabeled:
				s.Labeled++
			case ActionVerified:
				s.AlreadyLabeled++
			case ActionWouldSet:
				s.WouldLabel++
			case ActionLinked:
				s.HardLinks++
			case ActionKept:
				s.SignaturesKept++
			}
			if r.mutable && r.action != ActionFailed && r.action != ActionLinked && r.action != ActionKept {
				s.Mutable++
			}
			if r.signed && r.action != ActionFailed {
				s.Signed++
			}
			if r.evm {
				s.EVMSigned++
			}
		},
	}
}
