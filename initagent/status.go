package initagent

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imaboot/imaboot/internal/atomicfile"
)

// StatusPath is the machine-readable report; /run moves into the real root,
// so the file is still there after the switch.
const StatusPath = "/run/imaboot/status.json"

// Step results as the status file records them.
const (
	ResultOK      = "ok"
	ResultFailed  = "failed"  // enforce: the boot stopped here
	ResultWarned  = "warned"  // failed in permissive mode, or done with a condition that does not hold (Warn); boot went on
	ResultSkipped = "skipped" // nothing to do (not configured)
)

// What the status file says about enforcement (Status.Enforcement).
const (
	// EnforcementProven: the kernel refused imaboot's unsigned canary
	// under an appraise rule of the loaded policy, before the switch.
	EnforcementProven = "proven"
	// EnforcementUnproven: the policy appraises, but the canary could not
	// show it (EnforcementDetail says why).
	EnforcementUnproven = "unproven"
	// EnforcementOff: this boot enforces nothing (break-glass, or the
	// kernel's appraisal is not enforcing in permissive mode).
	EnforcementOff = "off"
	// EnforcementNone: no policy, or one without appraise rules.
	EnforcementNone = "none"
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
	Version int  `json:"version"`
	Mode    Mode `json:"mode"`
	// BreakGlass: imaboot.break_glass brought this boot up enforcing
	// nothing (breakglass.go).
	BreakGlass bool   `json:"break_glass,omitempty"`
	Kernel     string `json:"kernel,omitempty"`
	// AppraiseMode is the kernel's IMA appraisal mode as its command line
	// and Secure Boot decide it: enforce, log, fix or off.
	AppraiseMode string `json:"appraise_mode,omitempty"`
	// SecureBoot is the kernel's view of UEFI Secure Boot: enabled,
	// disabled, unknown or not-efi (efi.ReadSecureBoot).
	SecureBoot string `json:"secure_boot,omitempty"`
	// Keyrings: sealed, open or kernel-restricted ("" when no keyring was
	// loaded).
	Keyrings string `json:"keyrings,omitempty"`
	// Enforcement is proven, unproven, off or none (the constants above);
	// EnforcementDetail says how it was shown, or why not.
	Enforcement       string `json:"enforcement,omitempty"`
	EnforcementDetail string `json:"enforcement_detail,omitempty"`
	// Lockdown is the kernel's lockdown level when the agent was done.
	Lockdown string `json:"lockdown,omitempty"`
	// Warnings are the steps that warned, "step: reason", in order: what
	// does not hold as enforcement wants, though the boot went on.
	Warnings []string     `json:"warnings,omitempty"`
	Steps    []StepStatus `json:"steps"`
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
	// Trust is the chain from the firmware to the certificates loaded
	// (TRUST=ca; truststatus.go).
	Trust *TrustStatus `json:"trust,omitempty"`

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

// Write saves the report atomically (internal/atomicfile), so a reader
// never sees half a file and nothing planted in /run/imaboot is written
// through.
func (s *Status) Write() error {
	if s.path == "" {
		return nil
	}
	data := s.marshalIndent()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(s.path, append(data, '\n'), 0o644)
}

// Holds is the summary line's account of what holds for this boot: the
// mode, then enforcement, keyrings and lockdown as the steps left them,
// and how many warnings ("unset" for what no step set).
func (s *Status) Holds() string {
	or := func(v, unset string) string {
		if v == "" {
			return unset
		}
		return v
	}
	mode := string(s.Mode)
	if s.BreakGlass {
		mode = "BREAK-GLASS (nothing enforced)"
	}
	line := fmt.Sprintf("%s: enforcement %s, keyrings %s, lockdown %s", mode,
		or(s.Enforcement, "unknown"), or(s.Keyrings, "none loaded"), or(s.Lockdown, "unknown"))
	if n := len(s.Warnings); n > 0 {
		line += fmt.Sprintf("; %d warning(s)", n)
	}
	return line
}
