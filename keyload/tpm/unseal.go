package tpm

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// UnsealOptions tune Unseal; the zero value fits a TPM whose owner
// hierarchy has no password.
type UnsealOptions struct {
	OwnerAuth []byte
}

// PolicyMismatchError says the PCRs do not hold the values the blob was
// sealed to. errors.Is(err, ErrPolicyMismatch) holds.
type PolicyMismatchError struct {
	Blob string
	// PCRs is the policy's selection; Changed the PCRs found to differ
	// from the sealed values (empty if they could not be read).
	PCRs, Changed []int
	Err           error
}

func (e *PolicyMismatchError) Error() string {
	named := e.Changed
	if len(named) == 0 {
		named = e.PCRs
	}
	return fmt.Sprintf("unseal refused: PCR policy mismatch (%s) for %s: %v", pcrList(named), e.Blob, e.Err)
}

func (e *PolicyMismatchError) Is(target error) bool { return target == ErrPolicyMismatch }
func (e *PolicyMismatchError) Unwrap() error        { return e.Err }

// pcrList formats PCRs as "PCR 7" or "PCRs 7, 13".
func pcrList(pcrs []int) string {
	s := make([]string, len(pcrs))
	for i, p := range pcrs {
		s[i] = fmt.Sprint(p)
	}
	if len(s) == 1 {
		return "PCR " + s[0]
	}
	return "PCRs " + strings.Join(s, ", ")
}

// Unseal returns the secret sealed in b if the PCRs hold the policy's
// values. It sends CreatePrimary, Load, StartAuthSession, PolicyPCR and
// Unseal, then flushes the primary and the object (the session ends with
// the Unseal). The session is salted with the primary key, so its keys
// are unknown to anyone watching the bus, and encrypts the response, so
// the secret never crosses the bus in the clear. The caller must clear()
// the secret when done.
//
// On a policy failure it reads the policy's PCRs once more to name the
// ones that changed (*PolicyMismatchError).
func Unseal(t transport.TPM, b *Blob, opts UnsealOptions) ([]byte, error) {
	// Deferred first so it runs last, after the flushes.
	sc := &scrubber{TPM: t}
	defer sc.scrub()
	t = retrier{sc}
	primary, err := createPrimary(t, opts.OwnerAuth)
	if err != nil {
		return nil, fmt.Errorf("unseal %s: %w", b.name(), err)
	}
	defer flush(t, primary.handle)
	// The primary's name is a digest of its public key, derived from the
	// owner seed: a different name means a different TPM (or a cleared
	// one), and Load would fail with an integrity error anyway.
	if !bytes.Equal(primary.name.Buffer, b.ParentName) {
		return nil, fmt.Errorf("unseal %s: %w", b.name(), ErrOtherTPM)
	}
	loaded, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: primary.handle, Name: primary.name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    tpm2.TPM2BPrivate{Buffer: b.Private},
		InPublic:     tpm2.BytesAs2B[tpm2.TPMTPublic](b.Public),
	}.Execute(t)
	if err != nil {
		if errors.Is(err, tpm2.TPMRCIntegrity) {
			return nil, fmt.Errorf("unseal %s: load sealed object: %w: %w", b.name(), ErrOtherTPM, err)
		}
		return nil, fmt.Errorf("unseal %s: load sealed object: %w", b.name(), err)
	}
	defer flush(t, loaded.ObjectHandle)

	pcrs := b.PCRIndexes()
	sel := pcrSelection(b.Bank, pcrs)
	policy := func(t transport.TPM, session tpm2.TPMISHPolicy, _ tpm2.TPM2BNonce) error {
		// An empty digest makes the TPM use the PCRs' current values; the
		// object's authPolicy then decides at Unseal.
		_, err := tpm2.PolicyPCR{PolicySession: session, Pcrs: sel}.Execute(t)
		return err
	}
	rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{
		Handle: loaded.ObjectHandle,
		Name:   loaded.Name,
		Auth: tpm2.Policy(tpm2.TPMAlgSHA256, 16, policy,
			tpm2.Salted(primary.handle, primary.public),
			tpm2.AESEncryption(128, tpm2.EncryptOut)),
	}}.Execute(t)
	if err != nil {
		if errors.Is(err, tpm2.TPMRCPolicyFail) {
			return nil, &PolicyMismatchError{Blob: b.name(), PCRs: pcrs, Changed: changedPCRs(t, b), Err: err}
		}
		return nil, fmt.Errorf("unseal %s: %w", b.name(), err)
	}
	return rsp.OutData.Buffer, nil
}

// changedPCRs compares the blob's sealed values with the PCRs now; nil if
// they cannot be read.
func changedPCRs(t transport.TPM, b *Blob) []int {
	now, err := ReadPCRs(t, b.Bank, b.PCRIndexes())
	if err != nil {
		return nil
	}
	var changed []int
	for _, p := range b.PCRs {
		if !bytes.Equal(now[p.Index], p.Value) {
			changed = append(changed, p.Index)
		}
	}
	return changed
}

// scrubber remembers every response the TPM sends and zeroes them at the
// end: go-tpm decrypts the unsealed secret in place in the response
// buffer before copying it out.
type scrubber struct {
	transport.TPM
	responses [][]byte
}

func (s *scrubber) Send(cmd []byte) ([]byte, error) {
	rsp, err := s.TPM.Send(cmd)
	if rsp != nil {
		s.responses = append(s.responses, rsp)
	}
	return rsp, err
}

func (s *scrubber) scrub() {
	for _, r := range s.responses {
		clear(r)
	}
}
