package tpm

import (
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// DefaultPCRs is the seal policy's default selection: PCR 7 holds the
// Secure Boot state (enabled, PK/KEK/db/dbx, the authorities that
// verified the boot chain).
var DefaultPCRs = []int{7}

// DefaultLockPCR is the PCR extended after unsealing. It must be a PCR
// that user space at locality 0 can extend but not reset (so not 16 or
// 23, which locality 0 resets, nor the DRTM PCRs 17–22), and one whose
// value at the agent's step is the same every boot. The others are
// claimed before or after the agent: 0–7 by firmware, 8–9 by GRUB and the
// EFI stub (kernel, command line, initrd), 10 by IMA, 11 by systemd-stub
// and systemd-pcrphase, 12 by systemd-stub (command line, credentials),
// 14 by shim (MOK lists) and 15 by systemd (machine-id, file systems,
// volume keys). 13 is used by systemd-stub only for system extension
// images passed to an initrd of a unified kernel image, which imaboot's
// initramfs does not carry, so it is still all zeros when the agent runs.
const DefaultLockPCR = 13

// LockMeasurement is what the agent extends into the lock PCR (as its
// SHA-256), the same every boot so the locked value is recognisable.
const LockMeasurement = "imaboot: EVM master key unsealed, seal locked for this boot"

// maxPCR bounds PCR indexes: PC Client TPMs have 24.
const maxPCR = 23

// pcrSelection is the TPML_PCR_SELECTION for one bank.
func pcrSelection(bank tpm2.TPMIAlgHash, pcrs []int) tpm2.TPMLPCRSelection {
	idx := make([]uint, len(pcrs))
	for i, p := range pcrs {
		idx[i] = uint(p)
	}
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash:      bank,
		PCRSelect: tpm2.PCClientCompatible.PCRs(idx...),
	}}}
}

// checkPCRs rejects indexes a PC Client TPM does not have, and duplicates.
func checkPCRs(pcrs []int) error {
	seen := map[int]bool{}
	for _, p := range pcrs {
		if p < 0 || p > maxPCR {
			return fmt.Errorf("PCR %d out of range 0-%d", p, maxPCR)
		}
		if seen[p] {
			return fmt.Errorf("PCR %d selected twice", p)
		}
		seen[p] = true
	}
	return nil
}

// ReadPCRs reads the given PCRs of one bank. A TPM answers at most 8 PCRs
// per PCR_Read, so it asks again for what is still missing.
func ReadPCRs(t transport.TPM, bank tpm2.TPMIAlgHash, pcrs []int) (map[int][]byte, error) {
	if err := checkPCRs(pcrs); err != nil {
		return nil, err
	}
	t = retrier{t}
	out := map[int][]byte{}
	missing := slices.Clone(pcrs)
	for len(missing) > 0 {
		rsp, err := tpm2.PCRRead{PCRSelectionIn: pcrSelection(bank, missing)}.Execute(t)
		if err != nil {
			return nil, fmt.Errorf("read PCRs %v (%v bank): %w", missing, bank, err)
		}
		got := selectedPCRs(rsp.PCRSelectionOut, bank)
		if len(got) == 0 || len(got) != len(rsp.PCRValues.Digests) {
			return nil, fmt.Errorf("read PCRs %v (%v bank): TPM returned %d values for PCRs %v (bank not allocated?)",
				missing, bank, len(rsp.PCRValues.Digests), got)
		}
		for i, p := range got {
			out[p] = slices.Clone(rsp.PCRValues.Digests[i].Buffer)
		}
		missing = slices.DeleteFunc(missing, func(p int) bool { _, ok := out[p]; return ok })
	}
	return out, nil
}

// selectedPCRs lists, ascending, the PCRs a selection names in one bank.
func selectedPCRs(sel tpm2.TPMLPCRSelection, bank tpm2.TPMIAlgHash) []int {
	var out []int
	for _, s := range sel.PCRSelections {
		if s.Hash != bank {
			continue
		}
		for byteIdx, b := range s.PCRSelect {
			for bit := 0; bit < 8; bit++ {
				if b&(1<<bit) != 0 {
					out = append(out, byteIdx*8+bit)
				}
			}
		}
	}
	return out
}

// ExtendPCR extends the SHA-256 bank of pcr with the SHA-256 of
// measurement. One PCR_Extend command; the bank is the one seal policies
// use, which is enough to break them.
func ExtendPCR(t transport.TPM, pcr int, measurement []byte) error {
	if err := checkPCRs([]int{pcr}); err != nil {
		return err
	}
	digest := sha256.Sum256(measurement)
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
		Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{
			HashAlg: tpm2.TPMAlgSHA256,
			Digest:  digest[:],
		}}},
	}.Execute(retrier{t})
	if err != nil {
		return fmt.Errorf("extend PCR %d: %w", pcr, err)
	}
	return nil
}

// LockedValue is what a PCR holds after ExtendPCR(measurement) from
// value (sha256 bank): a reseal tool uses it to tell "locked this boot"
// from "changed".
func LockedValue(value []byte, measurement []byte) []byte {
	m := sha256.Sum256(measurement)
	h := sha256.New()
	h.Write(value)
	h.Write(m[:])
	return h.Sum(nil)
}

// PersistentHandles lists the objects persisted in the TPM's NV memory;
// this package never adds one, and tests check it.
func PersistentHandles(t transport.TPM) ([]tpm2.TPMHandle, error) {
	rsp, err := tpm2.GetCapability{
		Capability:    tpm2.TPMCapHandles,
		Property:      uint32(tpm2.TPMHTPersistent) << 24,
		PropertyCount: 256,
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("list persistent handles: %w", err)
	}
	h, err := rsp.CapabilityData.Data.Handles()
	if err != nil {
		return nil, fmt.Errorf("list persistent handles: %w", err)
	}
	return h.Handle, nil
}
