package securityfs

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// LockdownLevel is the kernel lockdown LSM's level, lowest first.
type LockdownLevel string

const (
	LockdownNone            LockdownLevel = "none"
	LockdownIntegrity       LockdownLevel = "integrity"
	LockdownConfidentiality LockdownLevel = "confidentiality"
)

// lockdownRank orders the levels as the kernel does (a write can only
// raise it: lock_kernel_down refuses a level at or below the current one).
var lockdownRank = map[LockdownLevel]int{LockdownNone: 0, LockdownIntegrity: 1, LockdownConfidentiality: 2}

// ParseLockdownLevel reads a configured level.
func ParseLockdownLevel(s string) (LockdownLevel, error) {
	l := LockdownLevel(s)
	if _, ok := lockdownRank[l]; !ok {
		return "", fmt.Errorf("lockdown level %q: want none, integrity or confidentiality", s)
	}
	return l, nil
}

// AtLeast reports whether l is as strict as other or stricter.
func (l LockdownLevel) AtLeast(other LockdownLevel) bool {
	return lockdownRank[l] >= lockdownRank[other]
}

// ErrNoLockdown: the kernel has no lockdown LSM (not built, or left out of
// lsm=), so <securityfs>/lockdown does not exist.
var ErrNoLockdown = errors.New("the kernel has no lockdown LSM (no securityfs lockdown file: not built in, or missing from lsm=)")

// Lockdown reads <securityfs>/lockdown, "none [integrity] confidentiality":
// the bracketed word is the current level.
func Lockdown(fs FS) (LockdownLevel, error) {
	p := fs.path("lockdown")
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNoLockdown
	}
	if err != nil {
		return "", &PathError{Op: "read", Path: p, Err: err}
	}
	for _, w := range strings.Fields(string(data)) {
		if strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]") {
			return ParseLockdownLevel(strings.Trim(w, "[]"))
		}
	}
	return "", fmt.Errorf("%s: no current level in %q", p, strings.TrimSpace(string(data)))
}

// RaiseLockdown makes the kernel's lockdown at least want and returns the
// level before and after. It never lowers it (the kernel would refuse
// anyway): a level already at or above want is left as is. The write is
// confirmed by reading the file back.
func RaiseLockdown(fs FS, want LockdownLevel) (before, after LockdownLevel, err error) {
	before, err = Lockdown(fs)
	if err != nil {
		return "", "", err
	}
	if before.AtLeast(want) {
		return before, before, nil
	}
	p := fs.path("lockdown")
	w, err := fs.openWriter(p)
	if err != nil {
		return before, before, err
	}
	_, werr := w.Write([]byte(want))
	cerr := w.Close()
	if werr != nil {
		return before, before, &PathError{Op: "write " + string(want) + " to", Path: p, Err: werr}
	}
	if cerr != nil {
		return before, before, &PathError{Op: "close", Path: p, Err: cerr}
	}
	after, err = Lockdown(fs)
	if err != nil {
		return before, after, err
	}
	if after != want {
		return before, after, fmt.Errorf("%s: wrote %s, reads back %s", p, want, after)
	}
	return before, after, nil
}
