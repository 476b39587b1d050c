package tpm

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// MaxSecret is the largest secret a sealed data object holds
// (MAX_SYM_DATA in the TPM specification).
const MaxSecret = 128

// SealOptions choose the policy a secret is sealed to.
type SealOptions struct {
	// PCRs to seal to; nil means DefaultPCRs. The lock PCR is added.
	PCRs []int
	// Bank is the PCR bank; zero means sha256.
	Bank tpm2.TPMIAlgHash
	// LockPCR is extended after unsealing; 0 means DefaultLockPCR, -1
	// none (then nothing stops a second unseal in the same boot).
	LockPCR int
	// PCRValues are predicted values by PCR index. PCRs not in the map are
	// read from the TPM now, except the lock PCR, which is sealed to its
	// reset value (all zeros): its value before the agent extends it, even
	// when sealing in a boot the agent has already locked.
	PCRValues map[int][]byte
	// OwnerAuth is the owner hierarchy's authorization, usually empty.
	OwnerAuth []byte
	// RecoveryPassphrase, if not nil, also seals the secret in a second
	// object opened by this passphrase alone (UnsealRecovery), so a
	// booted, locked system can still reseal after an update. Guesses are
	// limited by the TPM's dictionary-attack lockout.
	RecoveryPassphrase []byte
}

// policy resolves the options into a bank, a lock PCR and the ascending
// PCR list.
func (o SealOptions) policy() (tpm2.TPMIAlgHash, int, []int, error) {
	bank := o.Bank
	if bank == 0 {
		bank = tpm2.TPMAlgSHA256
	}
	if _, err := bank.Hash(); err != nil {
		return 0, 0, nil, fmt.Errorf("PCR bank %v: %w", bank, err)
	}
	pcrs := slices.Clone(o.PCRs)
	if pcrs == nil {
		pcrs = slices.Clone(DefaultPCRs)
	}
	lock := o.LockPCR
	if lock == 0 {
		lock = DefaultLockPCR
	}
	if lock >= 0 && !slices.Contains(pcrs, lock) {
		pcrs = append(pcrs, lock)
	}
	slices.Sort(pcrs)
	if err := checkPCRs(pcrs); err != nil {
		return 0, 0, nil, err
	}
	if len(pcrs) == 0 {
		return 0, 0, nil, fmt.Errorf("no PCRs selected")
	}
	if lock < -1 {
		return 0, 0, nil, fmt.Errorf("lock PCR %d out of range", lock)
	}
	return bank, lock, pcrs, nil
}

// PolicyValues resolves the PCR values a seal with these options uses:
// predicted ones, the lock PCR's reset value, the rest read from the TPM
// (one PCR_Read per 8 PCRs).
func (o SealOptions) PolicyValues(t transport.TPM) ([]PCRValue, error) {
	bank, lock, pcrs, err := o.policy()
	if err != nil {
		return nil, err
	}
	h, _ := bank.Hash()
	var toRead []int
	for _, p := range pcrs {
		if _, ok := o.PCRValues[p]; !ok && p != lock {
			toRead = append(toRead, p)
		}
	}
	current := map[int][]byte{}
	if len(toRead) > 0 {
		if current, err = ReadPCRs(t, bank, toRead); err != nil {
			return nil, err
		}
	}
	for p := range maps.Keys(o.PCRValues) {
		if !slices.Contains(pcrs, p) {
			return nil, fmt.Errorf("value given for PCR %d, which is not in the policy %v", p, pcrs)
		}
	}
	out := make([]PCRValue, len(pcrs))
	for i, p := range pcrs {
		v, ok := o.PCRValues[p]
		switch {
		case ok:
		case p == lock:
			v = make([]byte, h.Size())
		default:
			v = current[p]
		}
		if len(v) != h.Size() {
			return nil, fmt.Errorf("PCR %d value is %d bytes, the %v bank needs %d", p, len(v), bank, h.Size())
		}
		out[i] = PCRValue{Index: p, Value: slices.Clone(v)}
	}
	return out, nil
}

// policyDigest is the TPM2_PolicyPCR policy digest (session hash sha256)
// for these PCR values; the sealed object carries it as its authPolicy.
func policyDigest(bank tpm2.TPMIAlgHash, values []PCRValue) ([]byte, error) {
	var concat bytes.Buffer
	pcrs := make([]int, len(values))
	for i, v := range values {
		pcrs[i] = v.Index
		concat.Write(v.Value)
	}
	h, _ := tpm2.TPMAlgSHA256.Hash()
	sum := h.New()
	sum.Write(concat.Bytes())
	calc, err := tpm2.NewPolicyCalculator(tpm2.TPMAlgSHA256)
	if err != nil {
		return nil, err
	}
	cmd := tpm2.PolicyPCR{PcrDigest: tpm2.TPM2BDigest{Buffer: sum.Sum(nil)}, Pcrs: pcrSelection(bank, pcrs)}
	if err := cmd.Update(calc); err != nil {
		return nil, err
	}
	return calc.Hash().Digest, nil
}

// Seal seals secret to the PCR policy the options describe. The secret
// travels to the TPM inside a salted, AES-128-CFB encrypted session; the
// returned blob holds no secret in the clear. Nothing stays in the TPM.
func Seal(t transport.TPM, secret []byte, opts SealOptions) (*Blob, error) {
	if len(secret) == 0 || len(secret) > MaxSecret {
		return nil, fmt.Errorf("seal: secret of %d bytes (1-%d allowed)", len(secret), MaxSecret)
	}
	t = retrier{t}
	bank, lock, _, err := opts.policy()
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	values, err := opts.PolicyValues(t)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	digest, err := policyDigest(bank, values)
	if err != nil {
		return nil, fmt.Errorf("seal: policy digest: %w", err)
	}
	primary, err := createPrimary(t, opts.OwnerAuth)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	defer flush(t, primary.handle)

	pub, priv, err := createSealed(t, primary, secret, nil, tpm2.TPMAObject{
		FixedTPM:    true,
		FixedParent: true,
		// Only the policy authorizes use; there is no password.
		UserWithAuth:    false,
		AdminWithPolicy: true,
		NoDA:            true,
	}, digest)
	if err != nil {
		return nil, fmt.Errorf("seal: create sealed object: %w", err)
	}
	b := &Blob{
		Bank:       bank,
		LockPCR:    lock,
		PCRs:       values,
		ParentName: slices.Clone(primary.name.Buffer),
		Public:     pub,
		Private:    priv,
	}
	if opts.RecoveryPassphrase != nil {
		auth := recoveryAuth(opts.RecoveryPassphrase)
		defer clear(auth)
		b.RecoveryPublic, b.RecoveryPrivate, err = createSealed(t, primary, secret, auth, tpm2.TPMAObject{
			FixedTPM:    true,
			FixedParent: true,
			// The passphrase authorizes use, and wrong guesses count
			// towards the TPM's dictionary-attack lockout.
			UserWithAuth: true,
			NoDA:         false,
		}, nil)
		if err != nil {
			return nil, fmt.Errorf("seal: create recovery object: %w", err)
		}
	}
	return b, nil
}

// createSealed creates a sealed data object holding secret under the
// primary and returns its public and private areas. The sensitive part
// (secret and auth) is the first command parameter and travels encrypted
// in a session salted with the primary key.
func createSealed(t transport.TPM, primary *primaryKey, secret, auth []byte, attrs tpm2.TPMAObject, policy []byte) (pub, priv []byte, err error) {
	data := slices.Clone(secret)
	defer clear(data)
	rsp, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{
			Handle: primary.handle,
			Name:   primary.name,
			Auth: tpm2.HMAC(tpm2.TPMAlgSHA256, 16,
				tpm2.Salted(primary.handle, primary.public),
				tpm2.AESEncryption(128, tpm2.EncryptIn)),
		},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			UserAuth: tpm2.TPM2BAuth{Buffer: auth},
			Data:     tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: data}),
		}},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type:             tpm2.TPMAlgKeyedHash,
			NameAlg:          tpm2.TPMAlgSHA256,
			ObjectAttributes: attrs,
			AuthPolicy:       tpm2.TPM2BDigest{Buffer: policy},
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash,
				&tpm2.TPMSKeyedHashParms{Scheme: tpm2.TPMTKeyedHashScheme{Scheme: tpm2.TPMAlgNull}}),
		}),
	}.Execute(t)
	if err != nil {
		return nil, nil, err
	}
	return slices.Clone(rsp.OutPublic.Bytes()), slices.Clone(rsp.OutPrivate.Buffer), nil
}
