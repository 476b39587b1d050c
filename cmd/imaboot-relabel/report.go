package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/imaboot/imaboot/relabel"
	"golang.org/x/sys/unix"
)

// setup wires the progress line and -v into the library's hooks.
func (c *common) setup(progress *func(relabel.Progress), stderr io.Writer) {
	if c.verbose {
		relabel.Debug = func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	}
	show := c.progress == "always"
	if c.progress == "auto" {
		if f, ok := stderr.(*os.File); ok {
			_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
			show = err == nil
		}
	}
	if show && !c.verbose {
		*progress = func(p relabel.Progress) { fmt.Fprint(stderr, "\r"+progressLine(p)+"\033[K") }
	}
}

func endProgress(stderr io.Writer, shown bool) {
	if shown {
		fmt.Fprintln(stderr)
	}
}

// progressLine: files, bytes, rate, and an ETA once the walk knows the total.
func progressLine(p relabel.Progress) string {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Bytes) / s
	}
	line := fmt.Sprintf("%d/%d files  %s/%s  %s/s", p.Files, p.Found, size(p.Bytes), size(p.FoundBytes), size(int64(rate)))
	if p.WalkDone && rate > 0 && p.FoundBytes >= p.Bytes {
		eta := time.Duration(float64(p.FoundBytes-p.Bytes)/rate) * time.Second
		line += "  ETA " + eta.Round(time.Second).String()
	} else if !p.WalkDone {
		line += "  (still walking)"
	}
	return line
}

func size(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

func printSummary(stdout, stderr io.Writer, s relabel.Summary, asJSON bool) {
	if asJSON {
		writeJSON(stdout, s)
		return
	}
	for _, f := range s.Failures {
		fmt.Fprintf(stderr, "FAILED %s: %s\n", f.Path, f.Error)
	}
	verb := "labeled"
	if s.DryRun {
		verb = "would label"
	}
	n := s.Labeled
	if s.DryRun {
		n = s.WouldLabel
	}
	fmt.Fprintf(stdout, "%d files (%s) in %s: %d %s (%d signed, %d EVM portable signatures), %d already right, %d further hard links, %d skipped, %d failed\n",
		s.Files, size(s.Bytes), s.Duration.Round(time.Millisecond), n, verb, s.Signed, s.EVMSigned, s.AlreadyLabeled, s.HardLinks, s.Skipped, s.Failed)
	if s.Mutable > 0 {
		fmt.Fprintf(stdout, "%d mutable configuration files hashed, not signed\n", s.Mutable)
	}
	if s.SignaturesKept > 0 {
		fmt.Fprintf(stdout, "%d files kept their signatures: a hash would have replaced an IMA or EVM signature (--replace-signatures allows it)\n", s.SignaturesKept)
	}
}

func printVerify(stdout io.Writer, r relabel.VerifyReport, asJSON, noCerts bool) {
	if asJSON {
		writeJSON(stdout, r)
		return
	}
	for _, v := range r.Problems {
		fmt.Fprintf(stdout, "%s: ima %s", v.Path, v.IMA)
		if v.EVM != relabel.StatusNone {
			fmt.Fprintf(stdout, ", evm %s", v.EVM)
		}
		if v.IMALabel != "" {
			fmt.Fprintf(stdout, " [%s]", v.IMALabel)
		}
		if v.Detail != "" {
			fmt.Fprintf(stdout, ": %s", v.Detail)
		}
		fmt.Fprintln(stdout)
	}
	for _, f := range r.WalkErrors {
		fmt.Fprintf(stdout, "%s: error: %s\n", f.Path, f.Error)
	}
	fmt.Fprintf(stdout, "%d files: %d verified, %d failed (", r.Files, r.Verified, r.Failed)
	first := true
	for _, st := range []relabel.Status{relabel.StatusOK, relabel.StatusMissing, relabel.StatusMalformed,
		relabel.StatusWrongDigest, relabel.StatusUnknownKey, relabel.StatusBadSignature, relabel.StatusUnsupported, relabel.StatusError} {
		if n := r.ByStatus[st]; n > 0 {
			if !first {
				fmt.Fprint(stdout, ", ")
			}
			fmt.Fprintf(stdout, "ima %s %d", st, n)
			first = false
		}
	}
	fmt.Fprintf(stdout, "), %d EVM portable signatures verified, %d skipped", r.EVMVerified, r.Skipped)
	if noCerts {
		fmt.Fprint(stdout, "; no certificate given")
	}
	fmt.Fprintln(stdout)
}
