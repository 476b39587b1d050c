package policygen

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Verdict is a running kernel's answer to one rule.
type Verdict struct {
	Rule     string
	Accepted bool
	// Errno is the write's error (EINVAL for a refused rule); 0 if none.
	Errno unix.Errno
	// Written is what write() returned; less than Sent means the kernel
	// read only part of the rule (a newline, a NUL, or a rule longer than
	// a page), which counts as a refusal.
	Written, Sent int
}

// judgePoison is refused by every kernel (no pattern in the token table
// matches it). Writing it after a rule makes close() discard the session.
const judgePoison = "imaboot-judge-invalid-rule\n"

// JudgeRules asks the kernel behind policyPath (normally
// /sys/kernel/security/ima/policy) for its verdict on each rule without
// loading anything: per rule it opens the file, writes the rule with its
// newline (the write's result is the verdict), writes a rule no kernel
// accepts so the session is discarded, and closes. It stops with an error
// if the file is not a kernel policy file (the invalid rule is accepted)
// or if the policy file vanishes (a policy was loaded after all).
func JudgeRules(policyPath string, rules []string) ([]Verdict, error) {
	open := func() (policySession, error) {
		fd, err := unix.Open(policyPath, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: policyPath, Err: err}
		}
		return fdSession(fd), nil
	}
	exists := func() bool {
		_, err := os.Stat(policyPath)
		return err == nil
	}
	return judge(policyPath, open, exists, rules)
}

// policySession is one open of the policy file.
type policySession interface {
	Write(b []byte) (int, error)
	Close() error
}

// fdSession writes with unix.Write: os.File.Write panics when the kernel
// reports more bytes than were sent, which the policy file does for a rule
// without a newline.
type fdSession int

func (s fdSession) Write(b []byte) (int, error) { return unix.Write(int(s), b) }
func (s fdSession) Close() error                { return unix.Close(int(s)) }

func judge(path string, open func() (policySession, error), exists func() bool, rules []string) ([]Verdict, error) {
	verdicts := make([]Verdict, 0, len(rules))
	for i, rule := range rules {
		data := []byte(rule + "\n")
		s, err := open()
		if err != nil {
			return verdicts, fmt.Errorf("judge rule %d: %w", i+1, err)
		}
		n, werr := s.Write(data)
		v := Verdict{Rule: rule, Written: n, Sent: len(data)}
		var errno unix.Errno
		if errors.As(werr, &errno) {
			v.Errno = errno
		}
		v.Accepted = werr == nil && n == len(data)
		if werr == nil {
			// The session may hold a rule now: poison it so close() loads nothing.
			if _, perr := s.Write([]byte(judgePoison)); perr == nil {
				s.Close()
				return verdicts, fmt.Errorf("judge rule %d: %s accepted a deliberately invalid rule: not a kernel IMA policy file", i+1, path)
			}
		}
		if err := s.Close(); err != nil {
			return verdicts, fmt.Errorf("judge rule %d: close %s: %w", i+1, path, err)
		}
		if !exists() {
			return verdicts, fmt.Errorf("judge rule %d: %s vanished after close: the kernel loaded a policy (%q)", i+1, path, rule)
		}
		verdicts = append(verdicts, v)
	}
	return verdicts, nil
}
