package debsign

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/imaboot/imaboot/relabel"
)

// Job is one package to sign: In is read, Out written (they may be equal).
type Job struct{ In, Out string }

// Summary totals a batch.
type Summary struct {
	Packages, Failed int
	Result
	Elapsed  time.Duration
	Errors   []error
	Warnings []string
}

// SignBatch signs the packages in parallel, printing one progress line per
// package on progress (nil for none). A failed package is reported and the
// others go on.
func SignBatch(jobs []Job, s *relabel.Signer, algo relabel.HashAlgo, progress io.Writer) Summary {
	start := time.Now()
	var mu sync.Mutex
	var sum Summary
	parallel(len(jobs), func(i int) error {
		res, err := SignFile(jobs[i].In, jobs[i].Out, s, algo)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			sum.Failed++
			sum.Errors = append(sum.Errors, err)
			if progress != nil {
				fmt.Fprintf(progress, "imaboot-debsign: FAILED %v\n", err)
			}
			return nil
		}
		sum.Packages++
		sum.Signed += res.Signed
		sum.Mutable += res.Mutable
		sum.Dropped += res.Dropped
		sum.Bytes += res.Bytes
		if progress != nil {
			fmt.Fprintf(progress, "imaboot-debsign: [%d/%d] %s: %d signed, %d mutable\n", sum.Packages+sum.Failed, len(jobs), jobs[i].Out, res.Signed, res.Mutable)
		}
		// Warnings show even when progress lines do not.
		if res.Dropped > 0 {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: %d files not signed: their names hold a newline, which a manifest cannot", jobs[i].Out, res.Dropped))
		}
		if len(res.ReplacedKeys) > 0 {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: replaced an imasigs manifest signed by another key (key id %s)", jobs[i].Out, strings.Join(res.ReplacedKeys, ", ")))
		}
		return nil
	})
	sum.Elapsed = time.Since(start)
	return sum
}

// String is the summary line.
func (s Summary) String() string {
	sec := s.Elapsed.Seconds()
	dropped := ""
	if s.Dropped > 0 {
		dropped = fmt.Sprintf(", %d dropped (names a manifest cannot hold)", s.Dropped)
	}
	return fmt.Sprintf("%d packages signed, %d failed; %d files signed, %d skipped as mutable%s; %.1f MB hashed in %.2f s (%.0f files/s, %.1f MB/s)",
		s.Packages, s.Failed, s.Signed, s.Mutable, dropped, float64(s.Bytes)/1e6, sec, float64(s.Signed)/sec, float64(s.Bytes)/1e6/sec)
}
