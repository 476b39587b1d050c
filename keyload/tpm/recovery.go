package tpm

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// ErrNoRecovery: the blob was sealed without a recovery passphrase.
var ErrNoRecovery = errors.New("blob has no recovery object (sealed without a passphrase)")

// ErrBadPassphrase: the TPM refused the recovery passphrase.
var ErrBadPassphrase = errors.New("wrong recovery passphrase")

// recoveryAuth turns a passphrase of any length into the object's auth
// value: a TPM auth value may not exceed the name algorithm's digest size,
// and it must hold no zero byte: go-tpm v0.9.8 cuts an auth value at its
// first zero (google/go-tpm#446), which made one passphrase in eight
// unusable with the raw digest. Hex of half the digest is 32 bytes, 128
// bits, and never zero.
func recoveryAuth(passphrase []byte) []byte {
	sum := sha256.Sum256(passphrase)
	defer clear(sum[:])
	return []byte(hex.EncodeToString(sum[:16]))
}

// UnsealRecovery unseals the blob's recovery object with the passphrase,
// whatever the PCRs hold: for `imaboot-seal reseal` on a booted system,
// whose lock PCR no longer lets the PCR-sealed object open. The session is
// salted with the primary key, so the passphrase's HMAC proves nothing to
// a bus observer, and the secret comes back encrypted. The caller clears
// the secret.
func UnsealRecovery(t transport.TPM, b *Blob, passphrase []byte, opts UnsealOptions) ([]byte, error) {
	if !b.HasRecovery() {
		return nil, fmt.Errorf("unseal %s: %w", b.name(), ErrNoRecovery)
	}
	sc := &scrubber{TPM: t}
	defer sc.scrub()
	t = retrier{sc}
	primary, err := createPrimary(t, opts.OwnerAuth)
	if err != nil {
		return nil, fmt.Errorf("unseal %s with passphrase: %w", b.name(), err)
	}
	defer flush(t, primary.handle)
	if string(primary.name.Buffer) != string(b.ParentName) {
		return nil, fmt.Errorf("unseal %s with passphrase: %w", b.name(), ErrOtherTPM)
	}
	loaded, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: primary.handle, Name: primary.name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    tpm2.TPM2BPrivate{Buffer: b.RecoveryPrivate},
		InPublic:     tpm2.BytesAs2B[tpm2.TPMTPublic](b.RecoveryPublic),
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("unseal %s with passphrase: load recovery object: %w", b.name(), err)
	}
	defer flush(t, loaded.ObjectHandle)
	auth := recoveryAuth(passphrase)
	defer clear(auth)
	rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{
		Handle: loaded.ObjectHandle,
		Name:   loaded.Name,
		Auth: tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.Auth(auth),
			tpm2.Salted(primary.handle, primary.public),
			tpm2.AESEncryption(128, tpm2.EncryptOut)),
	}}.Execute(t)
	if err != nil {
		if errors.Is(err, tpm2.TPMRCAuthFail) || errors.Is(err, tpm2.TPMRCBadAuth) {
			return nil, fmt.Errorf("unseal %s: %w (the TPM counts the failure towards its lockout): %w", b.name(), ErrBadPassphrase, err)
		}
		return nil, fmt.Errorf("unseal %s with passphrase: %w", b.name(), err)
	}
	return rsp.OutData.Buffer, nil
}
