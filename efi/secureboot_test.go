package efi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSysfs builds a sysfs tree: efi says whether /firmware/efi exists,
// secureBoot is boot_params' byte (-1: no boot_params file), vars are
// efivarfs files (name -> value byte).
func fakeSysfs(t *testing.T, efi bool, secureBoot int, vars map[string]byte) Sysfs {
	t.Helper()
	root := t.TempDir()
	if efi {
		if err := os.MkdirAll(filepath.Join(root, "firmware/efi/efivars"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if secureBoot >= 0 {
		data := make([]byte, 4096) // sizeof(struct boot_params)
		data[bootParamsSecureBoot] = byte(secureBoot)
		if err := os.MkdirAll(filepath.Join(root, "kernel/boot_params"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "kernel/boot_params/data"), data, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	for name, v := range vars {
		// efivarfs: 4 bytes of attributes (NV|BS|RT), then the value.
		p := filepath.Join(root, "firmware/efi/efivars", name+"-"+globalVariableGUID)
		if err := os.WriteFile(p, []byte{7, 0, 0, 0, v}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Sysfs{Root: root}
}

func TestReadSecureBoot(t *testing.T) {
	for _, tc := range []struct {
		name       string
		efi        bool
		secureBoot int
		vars       map[string]byte
		want       SecureBootState
		source     string
	}{
		{"BIOS boot", false, 0, nil, NotEFI, "no "},
		{"stub says enabled", true, 3, nil, Enabled, "boot_params.secure_boot=3"},
		{"stub says disabled", true, 2, map[string]byte{"SecureBoot": 1}, Disabled, "boot_params.secure_boot=2"},
		{"stub could not tell", true, 1, nil, Unknown, "boot_params.secure_boot=1"},
		// Unset: the kernel reads the variables itself.
		{"unset, SecureBoot=1", true, 0, map[string]byte{"SecureBoot": 1, "SetupMode": 0}, Enabled, "efivars SecureBoot=1 SetupMode=0"},
		{"unset, setup mode", true, 0, map[string]byte{"SecureBoot": 1, "SetupMode": 1}, Disabled, "SetupMode=1"},
		{"unset, SecureBoot=0", true, 0, map[string]byte{"SecureBoot": 0}, Disabled, "SecureBoot=0"},
		{"unset, no SecureBoot variable", true, 0, map[string]byte{"BootOrder": 0}, Disabled, "no SecureBoot variable"},
		{"unset, efivarfs not mounted", true, 0, nil, Unknown, "efivarfs not mounted"},
		{"no boot_params (arm64)", true, -1, map[string]byte{"SecureBoot": 1}, Enabled, "efivars SecureBoot=1"},
		{"no boot_params, nothing readable", true, -1, nil, Unknown, "no "},
	} {
		sb := ReadSecureBoot(fakeSysfs(t, tc.efi, tc.secureBoot, tc.vars))
		if sb.State != tc.want || !strings.Contains(sb.Source, tc.source) {
			t.Errorf("%s: %s, want %s (source containing %q)", tc.name, sb, tc.want, tc.source)
		}
		if sb.KernelIgnoresAppraiseParam() != (tc.want == Enabled) {
			t.Errorf("%s: KernelIgnoresAppraiseParam %v", tc.name, sb.KernelIgnoresAppraiseParam())
		}
	}
}

// TestReadSecureBootHere runs against this machine's sysfs: whatever it
// says, it must not be empty.
func TestReadSecureBootHere(t *testing.T) {
	sb := ReadSecureBoot(Sysfs{})
	if sb.State == "" || sb.Source == "" {
		t.Errorf("empty answer: %+v", sb)
	}
	t.Logf("this machine: %s", sb)
}
