package securityfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The once-per-boot policy marker, <StateDir>/ima-policy.state, lives on
// /run (a tmpfs, so it dies with the boot and moves to the real root with
// /run). Its first word is the state:
//
//	writing  a session was opened and its outcome is unknown (crash): refuse
//	loaded   the kernel took the policy: refuse
//	aborted  the session was aborted and the kernel loaded nothing: a later
//	         write is allowed, since nothing was loaded
const (
	markWriting = "writing"
	markLoaded  = "loaded"
	markAborted = "aborted"
)

// AlreadyWrittenError refuses a second policy write in one boot.
type AlreadyWrittenError struct {
	Marker string
	State  string // markWriting or markLoaded
	Detail string
}

func (e *AlreadyWrittenError) Error() string {
	return fmt.Sprintf("IMA policy already written this boot (%s says %q): refusing to write it again", e.Marker, strings.TrimSpace(e.State+" "+e.Detail))
}

func (fs FS) markerPath() string { return filepath.Join(fs.stateDir(), "ima-policy.state") }

// PolicyState returns the marker's state ("", "writing", "loaded",
// "aborted") and the rest of its line, for reports.
func PolicyState(fs FS) (state, detail string, err error) {
	data, err := os.ReadFile(fs.markerPath())
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read policy marker: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	state, detail, _ = strings.Cut(line, " ")
	return state, detail, nil
}

// markerBegin claims this boot's policy write before the policy file is
// opened. A new marker is created with O_EXCL so two agents racing cannot
// both win.
func (fs FS) markerBegin(mode string) error {
	p := fs.markerPath()
	state, detail, err := PolicyState(fs)
	if err != nil {
		return err
	}
	if state != "" && state != markAborted {
		return &AlreadyWrittenError{Marker: p, State: state, Detail: detail}
	}
	if err := os.MkdirAll(fs.stateDir(), 0o755); err != nil {
		return fmt.Errorf("policy marker: %w", err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if state == markAborted {
		flags = os.O_WRONLY | os.O_TRUNC
	}
	f, err := os.OpenFile(p, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return &AlreadyWrittenError{Marker: p, State: markWriting, Detail: "(another writer)"}
	}
	if err != nil {
		return fmt.Errorf("policy marker: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s %s %s\n", markWriting, mode, time.Now().UTC().Format(time.RFC3339))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("policy marker %s: %w", p, err)
	}
	return nil
}

// markerEnd records the outcome.
func (fs FS) markerEnd(state, detail string) error {
	line := fmt.Sprintf("%s %s %s\n", state, detail, time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(fs.markerPath(), []byte(line), 0o644); err != nil {
		return fmt.Errorf("policy marker: %w", err)
	}
	return nil
}

// markerDrop removes the claim when nothing reached the kernel (the policy
// file could not be opened), so a fixed retry is possible.
func (fs FS) markerDrop() { os.Remove(fs.markerPath()) }
