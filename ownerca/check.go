package ownerca

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/imaboot/imaboot/keyload"
)

// EFI variables Check reads (efivarfs names them NAME-GUID; each file is 4
// bytes of attributes, then the value).
const (
	globalGUID = "8be4df61-93ca-11d2-aa0d-00e098032b8c" // EFI_GLOBAL_VARIABLE
	shimGUID   = "605dab50-e046-4300-abb6-3dd810dd8b23" // shim's SHIM_LOCK_GUID
)

// Machine is where Check looks: the firmware's files and the kernel's keys.
type Machine struct {
	EFI     string // /sys/firmware/efi
	EFIVars string // /sys/firmware/efi/efivars (efivarfs)
	// Keys reads the kernel's trusted keys.
	Keys func() (keyload.KernelKeys, error)
}

// ThisMachine is the running machine.
var ThisMachine = Machine{EFI: "/sys/firmware/efi", EFIVars: "/sys/firmware/efi/efivars",
	Keys: func() (keyload.KernelKeys, error) { return keyload.ReadKernelKeys("") }}

// Status is what Check found; Problems is empty when the owner's CA is
// enrolled and TRUST=ca will find it.
type Status struct {
	Lines    []string // one per fact, for the owner to read
	Problems []string
	CA       keyload.TrustedKey // set when found
}

// Check reads, on the machine, the three facts TRUST=ca rests on: Secure
// Boot is on (mokutil --sb-state reads the same variable), shim has set
// MokListTrustedRT (so the kernel puts Machine Owner Keys in .machine and
// trusts them), and the CA named by keyID (NormalizeKeyID's form) is in
// .machine, linked into .secondary_trusted_keys.
func Check(m Machine, keyID string) Status {
	var s Status
	fact := func(format string, a ...any) { s.Lines = append(s.Lines, fmt.Sprintf(format, a...)) }
	problem := func(format string, a ...any) {
		p := fmt.Sprintf(format, a...)
		s.Problems = append(s.Problems, p)
		s.Lines = append(s.Lines, "PROBLEM: "+p)
	}

	efi := true
	if _, err := os.Stat(m.EFI); err != nil {
		efi = false
		problem("not booted with UEFI (%s missing): no Secure Boot, no Machine Owner Keys", m.EFI)
	}
	if efi {
		sb, err := efiVar(m.EFIVars, "SecureBoot", globalGUID)
		switch {
		case errors.Is(err, fs.ErrNotExist) && dirEmpty(m.EFIVars):
			problem("efivarfs is not mounted at %s (mount -t efivarfs efivarfs %s), the firmware's variables cannot be read", m.EFIVars, m.EFIVars)
		case err != nil:
			problem("read the SecureBoot variable: %v", err)
		case len(sb) == 1 && sb[0] == 1:
			fact("SecureBoot enabled")
		default:
			problem("SecureBoot disabled: the firmware does not check the boot loader, so nothing it vouches for (the owner's CA included) holds")
		}
		if v, err := efiVar(m.EFIVars, "MokSBStateRT", shimGUID); err == nil && len(v) == 1 && v[0] == 1 {
			problem("shim's validation is disabled (mokutil --disable-validation): shim boots unsigned loaders")
		}
		switch v, err := efiVar(m.EFIVars, "MokListTrustedRT", shimGUID); {
		case err == nil && len(v) == 1 && v[0] == 1:
			fact("MokListTrustedRT set: the kernel trusts Machine Owner Keys (.machine)")
		case errors.Is(err, fs.ErrNotExist) || err == nil:
			problem("MokListTrustedRT not set: the kernel puts Machine Owner Keys in .platform, which it trusts for kexec only (mokutil --trust-mok, then confirm in MokManager)")
		default:
			problem("read MokListTrustedRT: %v", err)
		}
		if _, err := efiVar(m.EFIVars, "MokNew", shimGUID); err == nil {
			fact("a key import is pending (MokNew): reboot, and enroll it in MokManager")
		}
	}

	kk, err := m.Keys()
	if err != nil {
		problem("%v", err)
		return s
	}
	ca, err := kk.FindCA(keyID)
	if err != nil {
		problem("%v", err)
		return s
	}
	s.CA = ca
	fact("the owner's CA %q, key id %s, is key %d in %s", ca.Subject, ca.ID, ca.Serial, strings.Join(ca.Rings, ", "))
	if !kk.MachineTrusted {
		problem(".machine is not linked into .secondary_trusted_keys")
	}
	return s
}

// efiVar reads an EFI variable's value through efivarfs.
func efiVar(dir, name, guid string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name+"-"+guid))
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("%s: %d bytes, shorter than its attributes", name, len(b))
	}
	return b[4:], nil
}

func dirEmpty(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err != nil || len(entries) == 0
}
