package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/google/go-tpm/tpm2"

	"github.com/imaboot/imaboot/keyload/tpm"
)

// status reports the blobs and compares the sealed PCR values with this
// TPM's. It reads PCRs and derives the primary key's name; it never
// unseals.
func (a *app) status() (int, error) {
	code := exitOK
	blob, err := tpm.ReadBlob(a.sealed)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(a.stdout, "sealed master key: %s: missing\n", a.sealed)
		code = exitUsage
	case err != nil:
		fmt.Fprintf(a.stdout, "sealed master key: %v\n", err)
		code = exitUsage
	default:
		fmt.Fprintf(a.stdout, "sealed master key: %s (format 1): %s\n", a.sealed, describePolicy(blob))
		if blob.HasRecovery() {
			fmt.Fprintln(a.stdout, "  recovery passphrase copy: yes")
		} else {
			fmt.Fprintln(a.stdout, "  recovery passphrase copy: no")
		}
	}
	a.evmStatus()
	if blob == nil {
		return code, nil
	}
	t, err := tpm.Open(a.tpmPath)
	if err != nil {
		return exitUsage, err
	}
	defer t.Close()
	same, err := tpm.ParentMatches(t, blob, tpm.UnsealOptions{})
	if err != nil {
		return exitFailed, err
	}
	if !same {
		fmt.Fprintf(a.stdout, "TPM %s: not the TPM this blob was sealed with (or it was cleared since)\n", a.tpmPath)
		return exitFailed, nil
	}
	fmt.Fprintf(a.stdout, "TPM %s: the TPM this blob was sealed with\n", a.tpmPath)
	now, err := tpm.ReadPCRs(t, blob.Bank, blob.PCRIndexes())
	if err != nil {
		return exitFailed, err
	}
	var differ []int
	lockedNow := false
	for _, p := range blob.PCRs {
		cur := now[p.Index]
		var what string
		switch {
		case p.Index == blob.LockPCR && bytes.Equal(cur, p.Value):
			what = "lock PCR, not extended yet: the blob can be unsealed now (expected before imaboot-init runs, not after)"
		case p.Index == blob.LockPCR && bytes.Equal(cur, tpm.LockedValue(p.Value, []byte(tpm.LockMeasurement))):
			what = "lock PCR, extended by imaboot-init in this boot: locked until reboot"
			lockedNow = true
		case p.Index == blob.LockPCR:
			what = fmt.Sprintf("lock PCR, DIFFERS: sealed %s, now %s (something else extended it)", short(p.Value), short(cur))
			differ = append(differ, p.Index)
		case bytes.Equal(cur, p.Value):
			what = "matches " + short(cur)
		default:
			what = fmt.Sprintf("DIFFERS: sealed %s, now %s", short(p.Value), short(cur))
			differ = append(differ, p.Index)
		}
		fmt.Fprintf(a.stdout, "  PCR %2d: %s\n", p.Index, what)
	}
	switch {
	case len(differ) > 0:
		fmt.Fprintf(a.stdout, "next boot: would NOT unseal (PCR %s changed); reseal to the new values\n", joinInts(differ))
		return exitFailed, nil
	case lockedNow:
		fmt.Fprintln(a.stdout, "next boot: would unseal (this boot is locked)")
	default:
		fmt.Fprintln(a.stdout, "now: would unseal")
	}
	return code, nil
}

// evmStatus prints what the EVM key blob says about itself: its format,
// master key and length ("default user:kmk 64 <hex>").
func (a *app) evmStatus() {
	data, err := os.ReadFile(a.evmBlob)
	if err != nil {
		fmt.Fprintf(a.stdout, "EVM key blob: %v\n", err)
		return
	}
	f := bytes.Fields(data)
	if len(f) != 4 {
		fmt.Fprintf(a.stdout, "EVM key blob: %s: not a kernel encrypted key blob (%d fields)\n", a.evmBlob, len(f))
		return
	}
	fmt.Fprintf(a.stdout, "EVM key blob: %s: format %s, under %s, %s bytes\n", a.evmBlob, f[0], f[1], f[2])
}

func short(v []byte) string {
	if len(v) == 0 {
		return "(none)"
	}
	return hex.EncodeToString(v)[:16] + "…"
}

func bankName(b *tpm.Blob) string {
	switch b.Bank {
	case tpm2.TPMAlgSHA1:
		return "sha1"
	case tpm2.TPMAlgSHA256:
		return "sha256"
	case tpm2.TPMAlgSHA384:
		return "sha384"
	case tpm2.TPMAlgSHA512:
		return "sha512"
	}
	return fmt.Sprintf("alg 0x%04x", uint16(b.Bank))
}
