package policygen

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// KernelConfig is what Check knows of the target kernel's build and boot:
// the CONFIG_ symbols of its .config (a /boot/config-* file) and the LSM
// that will judge LSM conditions. A nil *KernelConfig means "unknown":
// Check then warns where a verdict depends on it instead of guessing.
type KernelConfig struct {
	// Symbols maps a name without the CONFIG_ prefix to its value: "y",
	// "m", "n" (from "# CONFIG_X is not set") or a string/number.
	Symbols map[string]string
	// ActiveLSM is the major LSM that handles audit rules ("apparmor",
	// "selinux", "smack", or "none"); empty means unknown. ParseKernelConfig
	// derives it from CONFIG_LSM; a booted system knows it better from
	// /sys/kernel/security/lsm (see ActiveLSMFromList).
	ActiveLSM string
}

// ParseKernelConfig reads a kernel .config file.
func ParseKernelConfig(r io.Reader) (*KernelConfig, error) {
	c := &KernelConfig{Symbols: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "# CONFIG_") && strings.HasSuffix(line, " is not set") {
			name := strings.TrimSuffix(strings.TrimPrefix(line, "# CONFIG_"), " is not set")
			c.Symbols[name] = "n"
			continue
		}
		if !strings.HasPrefix(line, "CONFIG_") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(line, "CONFIG_"), "=")
		if !ok {
			continue
		}
		c.Symbols[name] = strings.Trim(val, `"`)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read kernel config: %w", err)
	}
	if len(c.Symbols) == 0 {
		return nil, fmt.Errorf("read kernel config: no CONFIG_ lines found")
	}
	c.ActiveLSM = c.lsmFromConfig()
	return c, nil
}

// State returns "y", "m", "n" or "" (unknown) for a symbol such as
// "IMA_APPRAISE_MODSIG". A nil config knows nothing.
func (c *KernelConfig) State(name string) string {
	if c == nil || c.Symbols == nil {
		return ""
	}
	v, ok := c.Symbols[name]
	if !ok {
		// A config file lists every symbol whose dependencies are met;
		// a missing one is not built.
		return "n"
	}
	return v
}

// majorLSMs are the LSMs that register audit rule hooks and that, in the
// kernels modeled here, exclude one another: the first enabled one in the
// boot order wins.
var majorLSMs = []string{"selinux", "smack", "apparmor", "tomoyo"}

func (c *KernelConfig) lsmFromConfig() string {
	order := c.Symbols["LSM"]
	if order == "" {
		return ""
	}
	var enabled []string
	for _, name := range strings.Split(order, ",") {
		if c.State("SECURITY_"+strings.ToUpper(name)) == "y" {
			enabled = append(enabled, name)
		}
	}
	return ActiveLSMFromList(strings.Join(enabled, ","))
}

// ActiveLSMFromList picks the major LSM from a comma-separated list such as
// the content of /sys/kernel/security/lsm.
func ActiveLSMFromList(list string) string {
	for _, name := range strings.Split(strings.TrimSpace(list), ",") {
		for _, m := range majorLSMs {
			if name == m {
				if m == "tomoyo" {
					// TOMOYO has no audit rule hooks: LSM conditions
					// find no taker, as with no LSM at all.
					return "none"
				}
				return m
			}
		}
	}
	return "none"
}
