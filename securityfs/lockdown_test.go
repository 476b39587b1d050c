package securityfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeLockdown is <securityfs>/lockdown as lockdown_read prints it and
// lockdown_write changes it: a level can only be raised (EPERM otherwise).
type fakeLockdown struct {
	path   string
	writes []string
}

func newFakeLockdown(t *testing.T, level LockdownLevel) (*fakeLockdown, FS) {
	root := t.TempDir()
	f := &fakeLockdown{path: filepath.Join(root, "lockdown")}
	f.set(level)
	return f, FS{Root: root, OpenWriter: func(string) (Writer, error) { return f, nil }}
}

func (f *fakeLockdown) set(level LockdownLevel) {
	var words []string
	for _, l := range []LockdownLevel{LockdownNone, LockdownIntegrity, LockdownConfidentiality} {
		if l == level {
			words = append(words, "["+string(l)+"]")
		} else {
			words = append(words, string(l))
		}
	}
	os.WriteFile(f.path, []byte(strings.Join(words, " ")+"\n"), 0o644)
}

func (f *fakeLockdown) Write(p []byte) (int, error) {
	f.writes = append(f.writes, string(p))
	want, err := ParseLockdownLevel(strings.TrimSuffix(string(p), "\n"))
	if err != nil {
		return 0, unix.EINVAL
	}
	cur, _ := Lockdown(FS{Root: filepath.Dir(f.path)})
	if cur.AtLeast(want) {
		return 0, unix.EPERM
	}
	f.set(want)
	return len(p), nil
}

func (f *fakeLockdown) Close() error { return nil }

func TestRaiseLockdown(t *testing.T) {
	for _, tc := range []struct {
		start, want, after LockdownLevel
		writes             int
	}{
		{LockdownNone, LockdownIntegrity, LockdownIntegrity, 1},
		{LockdownNone, LockdownConfidentiality, LockdownConfidentiality, 1},
		{LockdownIntegrity, LockdownConfidentiality, LockdownConfidentiality, 1},
		// Never lowered, never written again.
		{LockdownConfidentiality, LockdownIntegrity, LockdownConfidentiality, 0},
		{LockdownIntegrity, LockdownIntegrity, LockdownIntegrity, 0},
		{LockdownIntegrity, LockdownNone, LockdownIntegrity, 0},
	} {
		f, fs := newFakeLockdown(t, tc.start)
		before, after, err := RaiseLockdown(fs, tc.want)
		if err != nil || before != tc.start || after != tc.after || len(f.writes) != tc.writes {
			t.Errorf("%s -> %s: before %s after %s, %d writes, %v; want after %s, %d writes", tc.start, tc.want, before, after, len(f.writes), err, tc.after, tc.writes)
		}
	}
}

func TestLockdownMissingOrRefused(t *testing.T) {
	if _, err := Lockdown(FS{Root: t.TempDir()}); !errors.Is(err, ErrNoLockdown) {
		t.Errorf("no lockdown file: %v", err)
	}
	f, fs := newFakeLockdown(t, LockdownNone)
	fs.OpenWriter = func(string) (Writer, error) { return refusingWriter{}, nil }
	_, after, err := RaiseLockdown(fs, LockdownIntegrity)
	if err == nil || !strings.Contains(err.Error(), "EPERM") || !strings.Contains(err.Error(), f.path) || after != LockdownNone {
		t.Errorf("refused write: after %s, %v", after, err)
	}
	if _, err := ParseLockdownLevel("max"); err == nil {
		t.Error("bad level accepted")
	}
}

type refusingWriter struct{}

func (refusingWriter) Write([]byte) (int, error) { return 0, unix.EPERM }
func (refusingWriter) Close() error              { return nil }
