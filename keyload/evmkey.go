package keyload

import (
	"bytes"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// EVMKeyName is the encrypted key EVM asks the kernel for when HMAC mode
// is enabled (EVMKEY in security/integrity/evm).
const EVMKeyName = "evm-key"

// DefaultEVMKeyLen is the decrypted length of a new EVM key in bytes; EVM
// takes up to 128 and HMACs with its first bytes.
const DefaultEVMKeyLen = 64

// LoadEVMKey adds the encrypted key name (normally EVMKeyName) to keyring
// from a blob as `keyctl pipe` or NewEVMKey wrote it ("default user:kmk 64
// <hex>"). The kernel decrypts it with the master key the blob names,
// which must already be in a keyring the caller possesses. file names the
// blob in errors.
func LoadEVMKey(name string, blob []byte, file string, keyring int) (int, error) {
	blob = bytes.TrimSpace(blob)
	if len(blob) == 0 {
		return 0, fmt.Errorf("load EVM key %s from %s: empty blob", name, file)
	}
	master := evmMasterRef(blob)
	payload := append([]byte("load "), blob...)
	id, err := unix.AddKey("encrypted", name, payload, keyring)
	if err != nil {
		errno := mkErrno(err)
		why := unix.ErrnoName(errno)
		switch errno {
		case unix.ENOKEY:
			why += fmt.Sprintf(" (master key %s not found)", master)
		case unix.EKEYREVOKED:
			why += fmt.Sprintf(" (master key %s was revoked or invalidated)", master)
		case unix.EINVAL:
			why += fmt.Sprintf(" (blob damaged, or not encrypted under master key %s)", master)
		case unix.ENODEV:
			why += " (no encrypted key type: kernel without CONFIG_ENCRYPTED_KEYS)"
		}
		return 0, fmt.Errorf("load EVM key %s from %s into keyring %d: %s: %w", name, file, keyring, why, err)
	}
	return id, nil
}

// LoadEVMKeyFile reads a blob file and loads it with LoadEVMKey.
func LoadEVMKeyFile(name, file string, keyring int) (int, error) {
	blob, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("load EVM key %s: %w", name, err)
	}
	return LoadEVMKey(name, blob, file, keyring)
}

// evmMasterRef is the master key a blob names: its second word.
func evmMasterRef(blob []byte) string {
	f := bytes.Fields(blob)
	if len(f) >= 2 {
		return string(f[1])
	}
	return "(none named)"
}

// NewEVMKey asks the kernel for a new random encrypted key name of keyLen
// bytes under the master key masterRef ("user:kmk"), adds it to keyring
// and returns its serial and its blob, the encrypted form to store. The
// decrypted key never leaves the kernel.
func NewEVMKey(name, masterRef string, keyLen, keyring int) (int, []byte, error) {
	if err := mkValidName(name); err != nil {
		return 0, nil, fmt.Errorf("new EVM key: %w", err)
	}
	payload := fmt.Sprintf("new default %s %d", masterRef, keyLen)
	id, err := unix.AddKey("encrypted", name, []byte(payload), keyring)
	if err != nil {
		return 0, nil, fmt.Errorf("new EVM key %s (%q) in keyring %d: %s: %w", name, payload, keyring, unix.ErrnoName(mkErrno(err)), err)
	}
	// The kernel needs the master key only now, to encrypt the blob: a
	// missing one shows up here (seen on 6.1 and 6.12), so the useless new
	// key is removed again.
	blob, err := ReadEVMKeyBlob(id)
	if err != nil {
		unix.KeyctlInt(unix.KEYCTL_UNLINK, id, keyring, 0, 0)
		unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
		if mkErrno(err) == unix.ENOKEY {
			return 0, nil, fmt.Errorf("new EVM key %s: master key %s not found: %w", name, masterRef, err)
		}
		return 0, nil, fmt.Errorf("new EVM key %s: %w", name, err)
	}
	return id, blob, nil
}

// ReadEVMKeyBlob reads an encrypted key's blob (what `keyctl pipe`
// prints): format, master key reference, length and the hex of the
// encrypted key with its HMAC.
func ReadEVMKeyBlob(id int) ([]byte, error) {
	blob, err := keyRead(id, "encrypted key")
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(blob, "\x00"), nil
}
