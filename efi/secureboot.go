// Package efi reads what the firmware told the kernel: whether the machine
// booted through UEFI, and whether UEFI Secure Boot is on.
//
// Secure Boot matters to imaboot because it changes what the kernel
// enforces: with it, the kernel ignores an ima_appraise= override on its
// command line (ima_appraise_parse_cmdline keeps enforcing), and it locks
// itself down (CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT). ReadSecureBoot answers
// the way the kernel decided at boot (arch_ima_get_secureboot in
// security/integrity/ima/ima_efi.c on 6.1, arch_get_secureboot in
// security/integrity/efi_secureboot.c on 6.12), from files an initramfs can
// read without loading a module:
//   - no /sys/firmware/efi: the kernel was not booted through UEFI (the
//     kernel creates it only with EFI_BOOT), so there is no Secure Boot;
//   - on x86, byte 0x1ec of /sys/kernel/boot_params/data is
//     boot_params.secure_boot, which the kernel's EFI stub fills (from the
//     SecureBoot and SetupMode variables and shim's MokSBStateRT) and the
//     kernel uses as is: 3 enabled, 2 disabled, 1 unknown;
//   - when it is 0 (unset: another architecture, or a boot loader that
//     bypassed the stub) the kernel read the SecureBoot and SetupMode EFI
//     variables itself; they are read here from efivarfs when it is mounted,
//     else the answer is Unknown.
package efi

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecureBootState is the kernel's view of UEFI Secure Boot.
type SecureBootState string

const (
	// NotEFI: booted without UEFI (BIOS, a VM without OVMF): no Secure Boot.
	NotEFI SecureBootState = "not-efi"
	// Disabled: UEFI boot, Secure Boot off (or in setup mode, or shim's
	// validation turned off with mokutil --disable-validation).
	Disabled SecureBootState = "disabled"
	// Enabled: UEFI Secure Boot on; the kernel ignores ima_appraise=.
	Enabled SecureBootState = "enabled"
	// Unknown: UEFI boot, but the state could not be read here (or the
	// firmware did not say).
	Unknown SecureBootState = "unknown"
)

// SecureBoot is the answer and where it came from.
type SecureBoot struct {
	State SecureBootState
	// Source says which file decided, for reports: "boot_params.secure_boot=3".
	Source string
}

func (s SecureBoot) String() string {
	if s.Source == "" {
		return string(s.State)
	}
	return fmt.Sprintf("%s (%s)", s.State, s.Source)
}

// KernelIgnoresAppraiseParam reports whether the kernel, as booted, ignores
// an ima_appraise= parameter that asks for less than enforcement: only when
// it saw Secure Boot enabled (an unknown state counts as not enabled, as in
// the kernel).
func (s SecureBoot) KernelIgnoresAppraiseParam() bool { return s.State == Enabled }

// Sysfs is where the kernel's sysfs is mounted; the zero value is /sys.
type Sysfs struct {
	Root string
}

func (s Sysfs) path(elem ...string) string {
	root := s.Root
	if root == "" {
		root = "/sys"
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// bootParamsSecureBoot is the offset of secure_boot in struct boot_params
// (arch/x86/include/uapi/asm/bootparam.h, "0x1ec").
const bootParamsSecureBoot = 0x1ec

// The kernel's enum efi_secureboot_mode (include/linux/efi.h).
const (
	modeUnset    = 0
	modeUnknown  = 1
	modeDisabled = 2
	modeEnabled  = 3
)

// globalVariableGUID is EFI_GLOBAL_VARIABLE_GUID, the vendor of SecureBoot
// and SetupMode, as efivarfs spells it in file names.
const globalVariableGUID = "8be4df61-93ca-11d2-aa0d-00e098032b8c"

// ReadSecureBoot tells whether the running kernel saw UEFI Secure Boot
// enabled (see the package documentation for how). It never fails: what it
// cannot read makes the answer Unknown, with the reason in Source.
func ReadSecureBoot(sys Sysfs) SecureBoot {
	efiDir := sys.path("firmware", "efi")
	if _, err := os.Stat(efiDir); errors.Is(err, fs.ErrNotExist) {
		return SecureBoot{State: NotEFI, Source: "no " + efiDir}
	} else if err != nil {
		return SecureBoot{State: Unknown, Source: err.Error()}
	}
	bp := sys.path("kernel", "boot_params", "data")
	data, err := os.ReadFile(bp)
	if err == nil && len(data) > bootParamsSecureBoot {
		v := data[bootParamsSecureBoot]
		src := fmt.Sprintf("boot_params.secure_boot=%d", v)
		switch v {
		case modeEnabled:
			return SecureBoot{State: Enabled, Source: src}
		case modeDisabled:
			return SecureBoot{State: Disabled, Source: src}
		case modeUnknown:
			return SecureBoot{State: Unknown, Source: src + ": the EFI stub could not tell (the kernel treats it as disabled)"}
		}
		// modeUnset: the kernel asked the firmware's variables itself.
	}
	return readSecureBootVariables(sys, bp, err)
}

// readSecureBootVariables decides as efi_get_secureboot_mode does: no
// SecureBoot variable means disabled; SecureBoot=1 with SetupMode other
// than 1 means enabled.
func readSecureBootVariables(sys Sysfs, bootParams string, bpErr error) SecureBoot {
	vars := sys.path("firmware", "efi", "efivars")
	sb, err := readEFIByte(filepath.Join(vars, "SecureBoot-"+globalVariableGUID))
	if err != nil {
		why := "boot_params.secure_boot unset"
		if bpErr != nil {
			why = "no " + bootParams
		}
		if errors.Is(err, fs.ErrNotExist) && efivarfsMounted(vars) {
			return SecureBoot{State: Disabled, Source: "no SecureBoot variable in " + vars}
		}
		return SecureBoot{State: Unknown, Source: why + ", and the SecureBoot variable is unreadable (efivarfs not mounted?): " + err.Error()}
	}
	setup, err := readEFIByte(filepath.Join(vars, "SetupMode-"+globalVariableGUID))
	if err != nil {
		setup = 0 // as the kernel: a missing SetupMode reads as 0
	}
	src := fmt.Sprintf("efivars SecureBoot=%d SetupMode=%d", sb, setup)
	if sb == 0 || setup == 1 {
		return SecureBoot{State: Disabled, Source: src}
	}
	return SecureBoot{State: Enabled, Source: src}
}

// readEFIByte reads a one-byte EFI variable from efivarfs: 4 bytes of
// attributes, then the value.
func readEFIByte(path string) (byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(data) < 5 {
		return 0, fmt.Errorf("%s: %d bytes, want attributes and a value", path, len(data))
	}
	return data[4], nil
}

// efivarfsMounted tells an empty efivars directory (efivarfs not mounted)
// from a mounted one that lacks the variable: a mounted efivarfs always
// holds some variable.
func efivarfsMounted(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) > 0
}
