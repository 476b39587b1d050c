package policygen

import (
	"encoding/json"
	"fmt"
)

// Severity says whether a diagnostic makes the kernel refuse the policy.
type Severity int

const (
	// Error: the kernel refuses the rule, and with it the whole policy.
	Error Severity = iota
	// Warning: the kernel takes it, but it is surely not what was meant,
	// or the verdict depends on something Check does not know, or it
	// leaves a known way around the appraisal of code (the bypass report).
	Warning
	// Note: a fact about the policy that no rule can change.
	Note
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Note:
		return "note"
	}
	return "warning"
}

// Diagnostic is one finding, positioned in the policy source.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`   // 1-based; 0 when about the whole policy
	Column   int      `json:"column"` // 1-based byte column; 0 when about a whole line
	Severity Severity `json:"severity"`
	// Code is a stable identifier for tools and tests (see codes.go).
	Code    string `json:"code"`
	Message string `json:"message"`
}

// String formats d the way compilers do: file:line:column: error: message.
func (d Diagnostic) String() string {
	pos := d.File
	if pos == "" {
		pos = "<policy>"
	}
	if d.Line > 0 {
		pos += fmt.Sprintf(":%d", d.Line)
		if d.Column > 0 {
			pos += fmt.Sprintf(":%d", d.Column)
		}
	}
	return fmt.Sprintf("%s: %s: %s", pos, d.Severity, d.Message)
}

// MarshalJSON writes the severity as "error", "warning" or "note".
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads "error", "warning" or "note".
func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	switch name {
	case "error":
		*s = Error
	case "warning":
		*s = Warning
	case "note":
		*s = Note
	default:
		return fmt.Errorf("severity %q: want error, warning or note", name)
	}
	return nil
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == Error {
			return true
		}
	}
	return false
}
