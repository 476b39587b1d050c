package keyload

import (
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/imaboot/imaboot/keyload/tpm"
)

// MasterKeyResult reports the boot's master key step.
type MasterKeyResult struct {
	KeyID   int  // serial of the user key, 0 if not added
	LockPCR int  // PCR extended to lock the blob, -1 if none
	Locked  bool // the lock extend succeeded
}

// UnsealMasterKey is the boot's master key step in `user` mode:
//   - read the sealed blob file;
//   - unseal it through a salted, encrypted PolicyPCR session (package tpm);
//   - add the secret as the `user` key name in keyring and clear it;
//   - extend the blob's lock PCR with tpm.LockMeasurement, whatever
//     happened before (a corrupt blob locks tpm.DefaultLockPCR), so nothing
//     later in this boot can unseal the blob.
//
// A failed unseal or add and a failed lock are all returned, joined;
// errors.Is(err, tpm.ErrPolicyMismatch / tpm.ErrOtherTPM / tpm.ErrCorrupt)
// tell them apart.
func UnsealMasterKey(t transport.TPM, blobFile, name string, keyring int) (MasterKeyResult, error) {
	res := MasterKeyResult{LockPCR: tpm.DefaultLockPCR}
	var stepErr error
	blob, err := tpm.ReadBlob(blobFile)
	if err != nil {
		stepErr = err
	} else {
		res.LockPCR = blob.LockPCR
		secret, err := tpm.Unseal(t, blob, tpm.UnsealOptions{})
		if err != nil {
			stepErr = err
		} else if res.KeyID, err = AddMasterKey(name, secret, keyring); err != nil {
			stepErr = err
		}
	}
	if res.LockPCR >= 0 {
		if err := tpm.ExtendPCR(t, res.LockPCR, []byte(tpm.LockMeasurement)); err != nil {
			return res, errors.Join(stepErr, fmt.Errorf("lock sealed blob %s: %w", blobFile, err))
		}
		res.Locked = true
	}
	return res, stepErr
}
