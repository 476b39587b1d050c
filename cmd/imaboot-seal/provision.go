package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/internal/atomicfile"
	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/keyload/tpm"
)

// init creates the master key, seals it and creates the EVM key under it.
// The master key exists only in this process (cleared after use) and, for
// the few system calls that create the EVM key, in a private session
// keyring that is destroyed afterwards.
func (a *app) init() (int, error) {
	if !a.force {
		for _, f := range []string{a.sealed, a.evmBlob} {
			if _, err := os.Stat(f); err == nil {
				return exitUsage, fmt.Errorf("init: %s exists (--force replaces it, and with it the EVM key: files labelled with the old key's HMACs must be relabelled)", f)
			}
		}
	}
	opts, err := a.sealOptions()
	if err != nil {
		return exitUsage, err
	}
	mtype := keyload.MasterKeyMode(a.masterType)
	switch mtype {
	case keyload.MasterKeyTPM:
	case keyload.MasterKeyTrusted:
		if a.tpmPath == tpm.DefaultDevice {
			return exitUsage, fmt.Errorf("--master-type trusted: the kernel needs real TPM handles: use --tpm /dev/tpm0, not the resource manager %s", tpm.DefaultDevice)
		}
	case keyload.MasterKeyFile:
		return exitUsage, errors.New("--master-type user is MASTER_KEY_TYPE=user, a plain master key file, which imaboot-seal does not make: want tpm (imaboot-init unseals the key; this was called user before) or trusted")
	default:
		return exitUsage, fmt.Errorf("--master-type %q: want tpm or trusted", a.masterType)
	}
	if a.passFile != "" {
		if opts.RecoveryPassphrase, err = a.readPassphrase(); err != nil {
			return exitUsage, err
		}
		defer clear(opts.RecoveryPassphrase)
	}
	t, err := tpm.Open(a.tpmPath)
	if err != nil {
		return exitUsage, fmt.Errorf("init: %w", err)
	}
	defer t.Close()

	master, err := keyload.NewMasterKey()
	if err != nil {
		return exitFailed, err
	}
	defer clear(master)
	blob, err := tpm.Seal(t, master, opts)
	if err != nil {
		return exitFailed, fmt.Errorf("init: %w", err)
	}
	var evmBlob []byte
	err = inPrivateSession(func(sess int) error {
		if mtype == keyload.MasterKeyTrusted {
			// The kernel unseals the blob just made, as at boot; the EVM
			// key's blob then names trusted:NAME.
			clear(master)
			prep, err := tpm.PrepareTrustedUnseal(t, blob, tpm.UnsealOptions{})
			if err != nil {
				return err
			}
			defer prep.Close(t)
			if _, err := keyload.AddTrustedMasterKey(a.masterName, keyload.TrustedLoadPayload(prep.KeyBlob, uint32(prep.Session)), sess); err != nil {
				return err
			}
		} else if _, err := keyload.AddMasterKey(a.masterName, master, sess); err != nil {
			// AddMasterKey clears master: the kernel holds the only copy.
			return err
		}
		ref := keyload.MasterKeyRef(mtype, a.masterName)
		_, b, err := keyload.NewEVMKey(keyload.EVMKeyName, ref, a.evmKeyLen, sess)
		evmBlob = b
		return err
	})
	if err != nil {
		return exitFailed, fmt.Errorf("init: %w", err)
	}
	for _, f := range []string{a.sealed, a.evmBlob} {
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			return exitFailed, fmt.Errorf("init: %w", err)
		}
	}
	if err := tpm.WriteBlob(a.sealed, blob); err != nil {
		return exitFailed, fmt.Errorf("init: %w", err)
	}
	if err := atomicfile.Write(a.evmBlob, append(evmBlob, '\n'), 0o600); err != nil {
		return exitFailed, fmt.Errorf("init: %w", err)
	}
	fmt.Fprintf(a.stdout, "sealed master key %s to %s\n", a.masterName, describePolicy(blob))
	fmt.Fprintf(a.stdout, "wrote %s and %s (EVM key of %d bytes under %s)\n", a.sealed, a.evmBlob, a.evmKeyLen, keyload.MasterKeyRef(mtype, a.masterName))
	if blob.HasRecovery() {
		fmt.Fprintln(a.stdout, "the master key is also sealed to the recovery passphrase (for reseal)")
	}
	return exitOK, nil
}

// reseal unseals the master key and seals it again to new values. The
// selection and lock PCR stay those of the old blob unless given.
func (a *app) reseal() (int, error) {
	old, err := tpm.ReadBlob(a.sealed)
	if err != nil {
		return exitUsage, fmt.Errorf("reseal: %w", err)
	}
	opts, err := a.sealOptions()
	if err != nil {
		return exitUsage, err
	}
	if a.pcrs == "" {
		opts.PCRs = slices.DeleteFunc(old.PCRIndexes(), func(p int) bool { return p == old.LockPCR })
	}
	if !a.flagSet("lock-pcr") {
		opts.LockPCR = old.LockPCR
	}
	var pass []byte
	if a.passFile != "" {
		if pass, err = a.readPassphrase(); err != nil {
			return exitUsage, err
		}
		defer clear(pass)
	}
	t, err := tpm.Open(a.tpmPath)
	if err != nil {
		return exitUsage, fmt.Errorf("reseal: %w", err)
	}
	defer t.Close()
	var master []byte
	if a.passFile != "" {
		master, err = tpm.UnsealRecovery(t, old, pass, tpm.UnsealOptions{})
	} else {
		master, err = tpm.Unseal(t, old, tpm.UnsealOptions{})
	}
	if err != nil {
		var pm *tpm.PolicyMismatchError
		if errors.As(err, &pm) && old.LockPCR >= 0 && slices.Contains(pm.Changed, old.LockPCR) {
			err = fmt.Errorf("reseal: %w\n(the master key can be unsealed only before imaboot-init extends lock PCR %d in a boot; use --passphrase-file if init set a recovery passphrase, or reseal before that)", err, old.LockPCR)
		} else {
			err = fmt.Errorf("reseal: %w", err)
		}
		return exitFailed, err
	}
	defer clear(master)
	blob, err := tpm.Seal(t, master, opts)
	if err != nil {
		return exitFailed, fmt.Errorf("reseal: %w", err)
	}
	// The recovery copy does not depend on PCRs: keep it as it is.
	blob.RecoveryPublic, blob.RecoveryPrivate = old.RecoveryPublic, old.RecoveryPrivate
	if err := tpm.WriteBlob(a.sealed, blob); err != nil {
		return exitFailed, fmt.Errorf("reseal: %w", err)
	}
	fmt.Fprintf(a.stdout, "resealed %s to %s\n", a.sealed, describePolicy(blob))
	return exitOK, nil
}

// inPrivateSession runs fn with a new session keyring on an OS thread of
// its own (session keyrings belong to a thread's credentials), then clears
// and invalidates the keyring. The thread is never unlocked, so it ends
// with the goroutine and nothing else ever runs with that keyring.
func inPrivateSession(fn func(sess int) error) error {
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		// A fresh, unguessable name: joining an existing name would share
		// that keyring. (An empty name is not NULL to x/sys.)
		var nonce [8]byte
		rand.Read(nonce[:])
		sess, err := unix.KeyctlJoinSessionKeyring(fmt.Sprintf("imaboot-seal-%x", nonce))
		if err != nil {
			done <- fmt.Errorf("join a private session keyring: %w", err)
			return
		}
		err = fn(sess)
		unix.KeyctlInt(unix.KEYCTL_CLEAR, sess, 0, 0, 0)
		unix.KeyctlInt(unix.KEYCTL_INVALIDATE, sess, 0, 0, 0)
		done <- err
	}()
	return <-done
}

// describePolicy is "sha256 PCRs 7, 13 (lock PCR 13)".
func describePolicy(b *tpm.Blob) string {
	s := fmt.Sprintf("%s PCRs %s", bankName(b), joinInts(b.PCRIndexes()))
	if b.LockPCR >= 0 {
		s += fmt.Sprintf(" (lock PCR %d)", b.LockPCR)
	} else {
		s += " (no lock PCR)"
	}
	return s
}

func joinInts(v []int) string {
	s := ""
	for i, n := range v {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(n)
	}
	return s
}
