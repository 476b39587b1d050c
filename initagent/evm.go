package initagent

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/keyload/tpm"
	"github.com/imaboot/imaboot/policygen"
	"github.com/imaboot/imaboot/securityfs"
	"golang.org/x/sys/unix"
)

// loadMasterKey gives the kernel the EVM master key and returns its
// serial for evm-key. In tpm mode it unseals the blob through a salted,
// encrypted PolicyPCR session, adds it as a user key (every copy zeroed)
// and extends the blob's lock PCR, so nothing later in this boot can unseal
// it again.
func (a *Agent) loadMasterKey() (string, int, error) {
	c := a.Config
	blob := a.keyPath(c.MasterKey)
	switch c.MasterKeyMode {
	case keyload.MasterKeyNone:
		return "", 0, Skip("MASTER_KEY_TYPE=none")
	case keyload.MasterKeyFile:
		// A plain key file: kept for dracut compatibility; no protection
		// at rest beyond the initramfs itself.
		secret, err := os.ReadFile(blob)
		if err != nil {
			return "", 0, fmt.Errorf("master key: %w", err)
		}
		id, err := keyload.AddMasterKey(c.MasterKeyName, secret, unix.KEY_SPEC_USER_KEYRING)
		clear(secret)
		if err != nil {
			return "", 0, err
		}
		return fmt.Sprintf("user key %s added from %s (unsealed file)", c.MasterKeyName, blob), id, nil
	}
	dev := c.TPMDevice
	if c.MasterKeyMode == keyload.MasterKeyTrusted && dev == "/dev/tpmrm0" {
		dev = "/dev/tpm0" // the kernel uses real handles
	}
	t, err := tpm.OpenWait(dev, c.TPMWait)
	if err != nil {
		return "", 0, fmt.Errorf("master key (%s): %w", c.MasterKeyMode, err)
	}
	defer t.Close()
	var res keyload.MasterKeyResult
	if c.MasterKeyMode == keyload.MasterKeyTrusted {
		res, err = keyload.LoadTrustedMasterKey(t, blob, c.MasterKeyName, unix.KEY_SPEC_USER_KEYRING)
	} else {
		res, err = keyload.UnsealMasterKey(t, blob, c.MasterKeyName, unix.KEY_SPEC_USER_KEYRING)
	}
	if res.Locked {
		a.Log.Infof("master-key: extended PCR %d with %q: %s cannot be unsealed again in this boot", res.LockPCR, tpm.LockMeasurement, blob)
	}
	if err != nil {
		return "", 0, err
	}
	return fmt.Sprintf("%s master key %s unsealed from %s", c.MasterKeyMode, c.MasterKeyName, blob), res.KeyID, nil
}

// loadEVMKey loads the encrypted EVM key under the master key (masterKey,
// a serial from master-key; 0: none), then drops the master key: the kernel
// needs it only to decrypt evm-key, and a key that root processes could
// possess is better gone. It returns evm-key's serial for enable-evm.
func (a *Agent) loadEVMKey(masterKey int) (string, int, error) {
	if masterKey == 0 {
		return "", 0, Skip("no master key")
	}
	path := a.keyPath(a.Config.EVMKey)
	id, err := keyload.LoadEVMKeyFile(keyload.EVMKeyName, path, unix.KEY_SPEC_USER_KEYRING)
	dropErr := keyload.DropKey(masterKey)
	if err != nil {
		return "", 0, errors.Join(err, dropErr)
	}
	if dropErr != nil {
		return "", id, fmt.Errorf("%s loaded but the master key stays readable: %w", keyload.EVMKeyName, dropErr)
	}
	return fmt.Sprintf("%s loaded from %s; master key dropped", keyload.EVMKeyName, path), id, nil
}

// enableEVM makes the one write to /sys/kernel/security/evm: the HMAC bit
// only with evm-key (evmKey, a serial from evm-key; 0: none), the X509 bit
// only with EVM certificates (evmCerts loaded); never without a key. lsm is
// the active LSM list (inputs), for hmacCrashGuard. EVM copies the HMAC
// key, so evm-key is dropped afterwards.
func (a *Agent) enableEVM(evmKey, evmCerts int, lsm string) (string, error) {
	if evmKey == 0 && evmCerts == 0 {
		if a.Config.EVMBits != "" {
			return "", fmt.Errorf("EVM_BITS=%s is set but neither the EVM key nor an EVM certificate loaded: refusing to enable EVM without a key", a.Config.EVMBits)
		}
		return "", Skip("no EVM key and no EVM certificate")
	}
	var extra uint32
	if a.Config.EVMBits != "" {
		var err error
		if extra, err = securityfs.ParseEVMBits(a.Config.EVMBits); err != nil {
			return "", err
		}
	}
	if evmKey != 0 {
		if err := hmacCrashGuard(a.kernel, lsm); err != nil {
			return "", err
		}
	}
	res, err := securityfs.EnableEVM(a.secfs, securityfs.EVMRequest{HMACKey: evmKey != 0, X509: evmCerts > 0, ExtraBits: extra})
	if evmKey != 0 {
		if derr := keyload.DropKey(evmKey); derr != nil && err == nil {
			err = derr
		}
	}
	if err != nil {
		return "", err
	}
	return res.Summary(), nil
}

// hmacCrashGuard refuses the EVM HMAC key on a kernel known to crash with
// it: on Debian's 6.1 (seen on 6.1.0-56), with the bpf LSM active, the first
// file created after EVM has its HMAC key dereferences NULL in
// evm_inode_init_security (the bpf LSM's inode_init_security hook returns
// 0 without naming an xattr; later kernels return -EOPNOTSUPP; 6.12 was
// seen unaffected). A crash would reboot in a loop; stopping says why.
// lsm is securityfs's lsm list ("": unknown, no refusal).
func hmacCrashGuard(release, lsm string) error {
	v, err := policygen.ParseKernelVersion(release)
	if err != nil || v.AtLeast(policygen.KernelVersion{Major: 6, Minor: 12}) {
		return nil
	}
	for _, m := range strings.Split(lsm, ",") {
		if m == "bpf" {
			return fmt.Errorf("refusing the EVM HMAC key: Linux %s with the bpf LSM active crashes creating the next file (NULL dereference in evm_inode_init_security); boot with an lsm= list without bpf (active: %s)", release, lsm)
		}
	}
	return nil
}
