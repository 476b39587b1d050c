package initagent

import (
	"fmt"
	"strings"
)

// Param is one kernel command-line parameter: key=value, or a bare key.
type Param struct {
	Key, Value string
	HasValue   bool
}

// Cmdline is /proc/cmdline, parsed the way the kernel splits it (spaces
// separate parameters except inside double quotes; quotes are removed).
type Cmdline struct {
	Params []Param
}

// ParseCmdline splits a kernel command line. Everything after a bare "--"
// belongs to init and is not returned.
func ParseCmdline(s string) (*Cmdline, error) {
	cl := &Cmdline{}
	var word strings.Builder
	inQuote, have := false, false
	flush := func() bool {
		if !have {
			return true
		}
		w := word.String()
		word.Reset()
		have = false
		if w == "--" {
			return false
		}
		k, v, ok := strings.Cut(w, "=")
		cl.Params = append(cl.Params, Param{Key: k, Value: v, HasValue: ok})
		return true
	}
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case !inQuote && (r == ' ' || r == '\t' || r == '\n'):
			if !flush() {
				return cl, nil
			}
		default:
			word.WriteRune(r)
			have = true
		}
	}
	if inQuote {
		return cl, fmt.Errorf("kernel command line: unterminated quote")
	}
	flush()
	return cl, nil
}

// Get returns the value of the last occurrence of key (the kernel's own
// rule: later parameters win).
func (c *Cmdline) Get(key string) (string, bool) {
	val, found := "", false
	for _, p := range c.Params {
		if p.Key == key {
			val, found = p.Value, true
		}
	}
	return val, found
}

// Has reports whether a bare flag such as "ro" is present.
func (c *Cmdline) Has(key string) bool {
	for _, p := range c.Params {
		if p.Key == key && !p.HasValue {
			return true
		}
	}
	return false
}

// RootSpec is what the command line says about the root file system.
type RootSpec struct {
	Device   string   // root=
	FSTypes  []string // rootfstype=, in order of preference
	Flags    string   // rootflags=
	ReadOnly bool     // ro unless the last of ro/rw is rw
	Delay    string   // rootdelay=, seconds
	Init     string   // init=
}

// Root extracts the root file system parameters.
func (c *Cmdline) Root() RootSpec {
	r := RootSpec{ReadOnly: true}
	r.Device, _ = c.Get("root")
	if t, ok := c.Get("rootfstype"); ok && t != "" {
		r.FSTypes = strings.Split(t, ",")
	}
	r.Flags, _ = c.Get("rootflags")
	r.Delay, _ = c.Get("rootdelay")
	r.Init, _ = c.Get("init")
	for _, p := range c.Params {
		if !p.HasValue && (p.Key == "ro" || p.Key == "rw") {
			r.ReadOnly = p.Key == "ro"
		}
	}
	return r
}
