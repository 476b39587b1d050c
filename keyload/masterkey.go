package keyload

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-tpm/tpm2/transport"
	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/keyload/tpm"
)

// The master key EVM's key is encrypted under. dracut's masterkey module
// and the kernel's documentation call it kmk and keep it in the user
// keyring (@u): the encrypted key type looks it up with request_key from
// the loading process's keyrings, and a process without a session keyring
// searches the user-session keyring, which links @u.
const (
	DefaultMasterKeyName = "kmk"
	// MasterKeySize is 32 bytes, as in the kernel's documentation; a
	// trusted key needs 32 to 128.
	MasterKeySize = 32
)

// MasterKeyMode says how the boot gives the kernel the EVM master key. The
// names are the values of imaboot.conf's MASTER_KEY_TYPE (dracut's for user
// and trusted) and of imaboot-seal's --master-type: one set, so nothing
// translates between them.
type MasterKeyMode string

const (
	// MasterKeyTPM: imaboot-init unseals the blob from the TPM
	// (UnsealMasterKey) and adds the secret as a `user` key.
	MasterKeyTPM MasterKeyMode = "tpm"
	// MasterKeyTrusted: the kernel unseals it (CONFIG_TRUSTED_KEYS) as a
	// `trusted` key; user space only prepares the TPM policy session
	// (LoadTrustedMasterKey).
	MasterKeyTrusted MasterKeyMode = "trusted"
	// MasterKeyFile: a plain key file added as a `user` key (AddMasterKey),
	// no protection at rest beyond the initramfs; dracut calls it user.
	MasterKeyFile MasterKeyMode = "user"
	// MasterKeyNone: no master key, so no EVM HMAC key.
	MasterKeyNone MasterKeyMode = "none"
)

// ParseMasterKeyMode takes one of the mode names; the error lists them.
func ParseMasterKeyMode(s string) (MasterKeyMode, error) {
	switch m := MasterKeyMode(s); m {
	case MasterKeyTPM, MasterKeyTrusted, MasterKeyFile, MasterKeyNone:
		return m, nil
	}
	return "", fmt.Errorf("must be tpm, trusted, user or none, not %q", s)
}

// KeyType is the kernel key type the master key has in mode m: `trusted`
// for MasterKeyTrusted, `user` for the others.
func (m MasterKeyMode) KeyType() string {
	if m == MasterKeyTrusted {
		return "trusted"
	}
	return "user"
}

// MasterKeyRef is how an encrypted key names its master key:
// "user:kmk" or "trusted:kmk".
func MasterKeyRef(m MasterKeyMode, name string) string {
	return m.KeyType() + ":" + name
}

// NewMasterKey returns MasterKeySize random bytes. The caller clears it.
func NewMasterKey() ([]byte, error) {
	k := make([]byte, MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	return k, nil
}

// AddMasterKey adds secret to keyring as a `user` key called name and
// clears secret, whatever happens: the kernel holds the only copy after.
// It returns the key's serial.
func AddMasterKey(name string, secret []byte, keyring int) (int, error) {
	defer clear(secret)
	if err := mkValidName(name); err != nil {
		return 0, fmt.Errorf("add master key: %w", err)
	}
	if len(secret) == 0 {
		return 0, fmt.Errorf("add master key %s: empty secret", name)
	}
	id, err := unix.AddKey("user", name, secret, keyring)
	if err != nil {
		return 0, fmt.Errorf("add master key user:%s to keyring %d: %s: %w", name, keyring, unix.ErrnoName(mkErrno(err)), err)
	}
	return id, nil
}

// TrustedLoadPayload is the add_key payload that makes the kernel load a
// `trusted` key from a TPM 2.0 key blob (the ASN.1 "TSS2 PRIVATE KEY"
// that tpm.TrustedKeyBlob encodes, which names its parent handle) through
// an already satisfied policy session. The kernel unseals it itself; no
// secret passes through user space.
func TrustedLoadPayload(tss2Key []byte, policyHandle uint32) string {
	return fmt.Sprintf("load %s policyhandle=0x%08x", hex.EncodeToString(tss2Key), policyHandle)
}

// AddTrustedMasterKey adds a `trusted` key called name to keyring from
// the payload TrustedLoadPayload built. ENODEV/ENOKEY-like failures name
// CONFIG_TRUSTED_KEYS, which Debian's 6.1 and 6.12 kernels lack.
func AddTrustedMasterKey(name, payload string, keyring int) (int, error) {
	id, err := unix.AddKey("trusted", name, []byte(payload), keyring)
	if err != nil {
		errno := mkErrno(err)
		why := unix.ErrnoName(errno)
		if errno == unix.ENODEV {
			why += " (no trusted key type: kernel without CONFIG_TRUSTED_KEYS, or no TPM)"
		}
		if errno == unix.EPERM {
			why += " (TPM refused: PCR policy mismatch or wrong parent)"
		}
		return 0, fmt.Errorf("add trusted master key trusted:%s to keyring %d: %s: %w", name, keyring, why, err)
	}
	return id, nil
}

// DropKey invalidates a key at once (KEYCTL_INVALIDATE): once EVM has
// copied its HMAC key (the write to /sys/kernel/security/evm), neither the
// master key nor evm-key is needed, and a key any root process could
// possess is better gone. Reading a key's payload needs only possession,
// so permissions alone cannot hide it.
func DropKey(id int) error {
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil {
		return fmt.Errorf("invalidate key %d: %s: %w", id, unix.ErrnoName(mkErrno(err)), err)
	}
	return nil
}

// mkErrno extracts the errno from a keyctl error, 0 if none.
func mkErrno(err error) unix.Errno {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return 0
}

// mkValidName rejects names the kernel or the encrypted key's payload
// parser would split: the master key reference is one word of it.
func mkValidName(name string) error {
	if name == "" || strings.ContainsAny(name, " \t\n:") {
		return fmt.Errorf("bad key name %q (no spaces or colons)", name)
	}
	return nil
}

// MasterKeyResult reports the boot's master key step.
type MasterKeyResult struct {
	KeyID   int  // serial of the user key, 0 if not added
	LockPCR int  // PCR extended to lock the blob, -1 if none
	Locked  bool // the lock extend succeeded
}

// UnsealMasterKey is the boot's master key step in MasterKeyTPM mode:
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
	return mkWithBlob(t, blobFile, func(blob *tpm.Blob) (int, error) {
		secret, err := tpm.Unseal(t, blob, tpm.UnsealOptions{})
		if err != nil {
			return 0, err
		}
		return AddMasterKey(name, secret, keyring)
	})
}

// LoadTrustedMasterKey is the boot's master key step in MasterKeyTrusted mode
// (kernels with CONFIG_TRUSTED_KEYS): on the raw TPM device (/dev/tpm0,
// whose handles the kernel shares), prepare the primary key and a
// satisfied PolicyPCR session, add the `trusted` key name from the blob
// so the kernel loads and unseals it itself, flush, then extend the lock
// PCR whatever happened. The secret never enters user space.
func LoadTrustedMasterKey(raw transport.TPM, blobFile, name string, keyring int) (MasterKeyResult, error) {
	return mkWithBlob(raw, blobFile, func(blob *tpm.Blob) (int, error) {
		prep, err := tpm.PrepareTrustedUnseal(raw, blob, tpm.UnsealOptions{})
		if err != nil {
			return 0, err
		}
		defer prep.Close(raw)
		id, err := AddTrustedMasterKey(name, TrustedLoadPayload(prep.KeyBlob, uint32(prep.Session)), keyring)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", blobFile, err)
		}
		return id, nil
	})
}

// mkWithBlob reads the sealed blob, has load put the master key in the
// keyring, and then locks whatever happened (mkLock): the one shape of
// both master key modes.
func mkWithBlob(t transport.TPM, blobFile string, load func(*tpm.Blob) (int, error)) (MasterKeyResult, error) {
	res := MasterKeyResult{LockPCR: tpm.DefaultLockPCR}
	blob, err := tpm.ReadBlob(blobFile)
	if err == nil {
		res.LockPCR = blob.LockPCR
		res.KeyID, err = load(blob)
	}
	return mkLock(t, res, blobFile, err)
}

// mkLock extends the blob's lock PCR whatever the step before did (a
// corrupt blob locks tpm.DefaultLockPCR), so nothing later in this boot
// can unseal it, and joins a failed lock to the step's error.
func mkLock(t transport.TPM, res MasterKeyResult, blobFile string, stepErr error) (MasterKeyResult, error) {
	if res.LockPCR < 0 {
		return res, stepErr
	}
	if err := tpm.ExtendPCR(t, res.LockPCR, []byte(tpm.LockMeasurement)); err != nil {
		return res, errors.Join(stepErr, fmt.Errorf("lock sealed blob %s: %w", blobFile, err))
	}
	res.Locked = true
	return res, stepErr
}
