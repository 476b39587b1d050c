package securityfs

import (
	"fmt"
	"os"
	"strings"
)

// ActiveLSMs returns <securityfs>/lsm, the kernel's comma-separated list of
// active LSMs in initialisation order (e.g. "lockdown,capability,yama,
// apparmor,bpf,ima,evm"), trimmed. Kernels before 4.15 have no such file.
func ActiveLSMs(fs FS) (string, error) {
	p := fs.path("lsm")
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("active LSMs: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}
