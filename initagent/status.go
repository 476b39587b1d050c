package initagent

import (
	"os"
	"path/filepath"
	"time"
)

// StatusPath is the machine-readable report; /run moves into the real root,
// so the file is still there after the switch.
const StatusPath = "/run/imaboot/status.json"

// Step results as the status file records them.
const (
	ResultOK      = "ok"
	ResultFailed  = "failed"  // enforce: the boot stopped here
	ResultWarned  = "warned"  // permissive: failed, boot went on
	ResultSkipped = "skipped" // nothing to do (not configured)
)

// StepStatus is one step's entry in the status file.
type StepStatus struct {
	Name       string  `json:"name"`
	Result     string  `json:"result"`
	Detail     string  `json:"detail,omitempty"`
	StartMS    float64 `json:"start_ms"`
	DurationMS float64 `json:"duration_ms"`
}

// Status is the whole report.
type Status struct {
	Version int          `json:"version"`
	Mode    Mode         `json:"mode"`
	Kernel  string       `json:"kernel,omitempty"`
	Steps   []StepStatus `json:"steps"`
	// Outcome: "running", "switching", "halted", or "done" (hook mode).
	Outcome string `json:"outcome"`
	// RootMountedMS is the time from agent start to the root mounted.
	RootMountedMS float64 `json:"root_mounted_ms,omitempty"`
	// ReadyMS is the time from agent start to ready to switch.
	ReadyMS float64 `json:"ready_ms,omitempty"`
	// InputsMS is how long reading the certificates and checking the
	// policy took (inputs.go); it overlaps the root wait when the files
	// are in the initramfs.
	InputsMS float64 `json:"inputs_ms,omitempty"`

	start time.Time
	path  string
}

// NewStatus starts the clock of a report written to path ("" = not written).
func NewStatus(path string, mode Mode, start time.Time) *Status {
	return &Status{Version: 1, Mode: mode, Outcome: "running", start: start, path: path}
}

func (s *Status) since(t time.Time) float64 {
	return float64(t.Sub(s.start).Microseconds()) / 1000
}

// Write saves the report atomically (write then rename), so a reader never
// sees half a file.
func (s *Status) Write() error {
	if s.path == "" {
		return nil
	}
	data := s.marshalIndent()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}
