package securityfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// EVM initialisation bits written to <securityfs>/evm
// (security/integrity/evm/evm.h).
const (
	EVMInitHMAC            uint32 = 0x00000001 // verify and write HMACs with evm-key
	EVMInitX509            uint32 = 0x00000002 // verify signatures with the .evm/_evm keyring
	EVMAllowMetadataWrites uint32 = 0x00000004 // let metadata change with no HMAC key
	EVMSetupComplete       uint32 = 0x80000000 // no further writes this boot
	evmInitMask                   = EVMInitHMAC | EVMInitX509 | EVMAllowMetadataWrites | EVMSetupComplete
)

// EVMRequest is what was loaded before EVM is enabled, and what the
// configuration adds.
type EVMRequest struct {
	HMACKey bool // the encrypted evm-key is in the kernel
	X509    bool // at least one EVM certificate loaded
	// ExtraBits come from the configuration, e.g. dracut's
	// EVM_ACTIVATION_BITS (see ParseEVMBits).
	ExtraBits uint32
	// LeaveOpen leaves out EVMSetupComplete so that a later write can
	// still add bits. The kernel adds it anyway with the HMAC bit.
	LeaveOpen bool
}

// EVMResult is what was written and what the kernel reports after.
type EVMResult struct {
	Before uint32 // the kernel's value before the write
	Wrote  uint32
	After  uint32 // read back; the kernel never shows EVMSetupComplete
}

// Summary is one line for the console and the status file.
func (r EVMResult) Summary() string {
	return fmt.Sprintf("EVM enabled: wrote %#x (%s), kernel reports %#x (%s)", r.Wrote, EVMBitNames(r.Wrote), r.After, EVMBitNames(r.After))
}

// EVMBitNames spells out a value: "HMAC|X509|setup-complete".
func EVMBitNames(v uint32) string {
	var names []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{{EVMInitHMAC, "HMAC"}, {EVMInitX509, "X509"}, {EVMAllowMetadataWrites, "metadata-writes"}, {EVMSetupComplete, "setup-complete"}} {
		if v&b.bit != 0 {
			names = append(names, b.name)
			v &^= b.bit
		}
	}
	if v != 0 {
		names = append(names, fmt.Sprintf("%#x", v))
	}
	if len(names) == 0 {
		return "off"
	}
	return strings.Join(names, "|")
}

// ParseEVMBits reads a configured value as the kernel does (kstrtouint,
// base 0): decimal, 0x hex or 0 octal, e.g. dracut's
// EVM_ACTIVATION_BITS=0x80000000.
func ParseEVMBits(s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
	if err != nil {
		return 0, fmt.Errorf("EVM bits %q: not a number (decimal or 0x hex)", s)
	}
	if uint32(v)&^evmInitMask != 0 {
		return 0, fmt.Errorf("EVM bits %q: unknown bits %#x (known: HMAC 0x1, X509 0x2, metadata-writes 0x4, setup-complete 0x80000000)", s, uint32(v)&^evmInitMask)
	}
	return uint32(v), nil
}

// EVMValue computes the one value to write: the HMAC bit only with the
// key, the X509 bit only with certificates, the configured extra bits, and
// setup-complete unless LeaveOpen. It refuses to enable EVM with neither
// a key nor a certificate, and combinations the kernel would refuse.
func EVMValue(req EVMRequest) (uint32, error) {
	if req.ExtraBits&^evmInitMask != 0 {
		return 0, fmt.Errorf("EVM: unknown bits %#x requested", req.ExtraBits&^evmInitMask)
	}
	if req.ExtraBits&EVMInitHMAC != 0 && !req.HMACKey {
		return 0, errors.New("EVM: HMAC bit configured but evm-key is not loaded: refusing to enable EVM without its key")
	}
	if req.ExtraBits&EVMInitX509 != 0 && !req.X509 {
		return 0, errors.New("EVM: X509 bit configured but no EVM certificate loaded: refusing to enable EVM without a key")
	}
	v := req.ExtraBits
	if req.HMACKey {
		v |= EVMInitHMAC
	}
	if req.X509 {
		v |= EVMInitX509
	}
	if v&(EVMInitHMAC|EVMInitX509) == 0 {
		return 0, errors.New("EVM: neither evm-key nor an EVM certificate is loaded: refusing to enable EVM without a key")
	}
	if v&EVMInitHMAC != 0 && v&EVMAllowMetadataWrites != 0 {
		return 0, errors.New("EVM: metadata-writes (0x4) cannot be combined with the HMAC key (the kernel refuses it)")
	}
	if !req.LeaveOpen {
		v |= EVMSetupComplete
	}
	return v, nil
}

// evmPath is <securityfs>/evm, a symlink to integrity/evm/evm on newer
// kernels, a file on older ones.
func (fs FS) evmPath() (string, error) {
	for _, p := range []string{fs.path("evm"), fs.path("integrity", "evm", "evm")} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("EVM: kernel has no EVM (or securityfs is not mounted): %s: %w", fs.path("evm"), os.ErrNotExist)
}

// ReadEVM returns the kernel's EVM state. The kernel prints it with %d and
// without EVMSetupComplete.
func ReadEVM(fs FS) (uint32, error) {
	p, err := fs.evmPath()
	if err != nil {
		return 0, err
	}
	return evmRead(p)
}

func evmRead(p string) (uint32, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, fmt.Errorf("EVM: read %s: %w", p, err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("EVM: read %s: %q is not a number", p, data)
	}
	return uint32(v), nil
}

// EnableEVM computes the value (EVMValue), writes it to <securityfs>/evm
// in one write and reads it back.
func EnableEVM(fs FS, req EVMRequest) (EVMResult, error) {
	var res EVMResult
	v, err := EVMValue(req)
	if err != nil {
		return res, err
	}
	p, err := fs.evmPath()
	if err != nil {
		return res, err
	}
	if res.Before, err = evmRead(p); err != nil {
		return res, err
	}
	w, err := fs.openWriter(p)
	if err != nil {
		return res, fmt.Errorf("EVM: %w", err)
	}
	data := []byte(fmt.Sprintf("%#x", v))
	n, werr := w.Write(data)
	cerr := w.Close()
	if werr != nil {
		return res, fmt.Errorf("EVM: write %#x (%s) to %s: %s: %w", v, EVMBitNames(v), p, evmRefusal(werr, res.Before), &PathError{Op: "write", Path: p, Err: werr})
	}
	if n != len(data) {
		return res, fmt.Errorf("EVM: write %#x to %s: short write (%d of %d bytes)", v, p, n, len(data))
	}
	if cerr != nil {
		return res, fmt.Errorf("EVM: %w", &PathError{Op: "close", Path: p, Err: cerr})
	}
	res.Wrote = v
	if res.After, err = evmRead(p); err != nil {
		return res, err
	}
	want := v &^ EVMSetupComplete
	if want&EVMInitHMAC != 0 {
		want &^= EVMAllowMetadataWrites // the kernel clears it once HMAC is on
	}
	if res.After&want != want {
		return res, fmt.Errorf("EVM: wrote %#x (%s) but %s reads %#x (%s)", v, EVMBitNames(v), p, res.After, EVMBitNames(res.After))
	}
	return res, nil
}

// evmRefusal explains evm_write_key's errno.
func evmRefusal(err error, before uint32) string {
	switch {
	case errors.Is(err, unix.EPERM):
		return fmt.Sprintf("EVM setup was already completed this boot (state %#x: %s) or metadata writes were asked for with an HMAC key", before, EVMBitNames(before))
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOKEY):
		return "the kernel found no encrypted key named evm-key in this process's keyrings"
	case errors.Is(err, unix.EINVAL):
		return "the kernel refused the value, or evm-key has the wrong size"
	case errors.Is(err, unix.EBUSY):
		return "the EVM HMAC key was already set"
	}
	return "refused by the kernel"
}
