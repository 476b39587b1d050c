package securityfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
// both win. The common case (no marker yet) is one open and one write: this
// is on the boot's critical path.
func (fs FS) markerBegin(mode string) error {
	p := fs.markerPath()
	line := markerLine(markWriting, mode)
	err := markerCreate(p, line)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(fs.stateDir(), 0o755); err != nil {
			return fmt.Errorf("policy marker: %w", err)
		}
		err = markerCreate(p, line)
	}
	if !errors.Is(err, os.ErrExist) {
		if err != nil {
			return fmt.Errorf("policy marker %s: %w", p, err)
		}
		return nil
	}
	state, detail, err := PolicyState(fs)
	if err != nil {
		return err
	}
	if state != markAborted {
		if state == "" {
			state, detail = markWriting, "(another writer)"
		}
		return &AlreadyWrittenError{Marker: p, State: state, Detail: detail}
	}
	// Nothing was loaded by the aborted session: this one may go on.
	if err := os.WriteFile(p, []byte(line), 0o644); err != nil {
		return fmt.Errorf("policy marker %s: %w", p, err)
	}
	return nil
}

func markerCreate(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// markerLine is "<state> <detail> <unix seconds>\n".
func markerLine(state, detail string) string {
	return state + " " + detail + " " + strconv.FormatInt(time.Now().Unix(), 10) + "\n"
}

// markerEnd records the outcome.
func (fs FS) markerEnd(state, detail string) error {
	if err := os.WriteFile(fs.markerPath(), []byte(markerLine(state, detail)), 0o644); err != nil {
		return fmt.Errorf("policy marker: %w", err)
	}
	return nil
}

// markerDrop removes the claim when nothing reached the kernel (the policy
// file could not be opened), so a fixed retry is possible.
func (fs FS) markerDrop() { os.Remove(fs.markerPath()) }
