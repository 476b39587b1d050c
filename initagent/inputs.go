package initagent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/policygen"
	"github.com/imaboot/imaboot/securityfs"
)

// inputs are the integrity steps' files, read, parsed and checked: the
// certificates and the IMA policy, and the active LSM list that the policy
// check and enable-evm's crash guard need. Nothing here touches the kernel's
// keyrings or the policy file, so when the files are in the initramfs the
// work starts right after the configuration step and runs while the kernel
// probes the disk and the agent waits for the root device. The steps after
// the root mount, the boot's critical path, then only hand the results to
// the kernel, in the same order and with the same failure policy as when
// they read the files themselves.
type inputs struct {
	done chan struct{}

	ima, evm       keyload.CertSet
	imaErr, evmErr error // reading the directory itself
	evmX509        *keyload.CertSet
	// imaRing and evmRing: the kernel's trusted keyrings, when it has them
	// (looked up in /proc/keys: a read, nothing is created).
	imaRing, evmRing trustedRing

	policyPath string
	policy     *policygen.Prepared
	policyErr  error

	// lsm is <securityfs>/lsm ("" when it cannot be read).
	lsm string

	// kernelKeys: the kernel's trusted keys, read for TRUST=ca.
	kernelKeys    keyload.KernelKeys
	kernelKeysErr error

	// took is how long the reading and checking ran (wall time: when it
	// overlaps the kernel's device probing, the two share the CPU).
	took time.Duration
}

// startInputs begins reading the integrity inputs into in in the
// background, once. Called at the end of the configuration step when the
// files do not come from the root (or the root is already there, in hook
// mode).
func (a *Agent) startInputs(in *inputs) {
	if in.done != nil {
		return
	}
	in.done = make(chan struct{})
	// The goroutine gets copies: the agent's fields are not its to read.
	cfg, kernel, root, secfs, imaRing, evmRing, kernelKeys := a.Config, a.kernel, a.NewRoot, a.secfs, a.imaRing, a.evmRing, a.kernelKeys
	keyPath := func(p string) string { return keyPathIn(cfg, root, p) }
	go func() {
		defer close(in.done)
		t0 := time.Now()
		if cfg.Trust == TrustOwnerCA {
			in.kernelKeys, in.kernelKeysErr = kernelKeys()
		}
		in.read(cfg, kernel, keyPath, secfs, imaRing, evmRing)
		in.took = time.Since(t0)
	}()
}

// waitInputs returns in, read: it reads now if nothing started it.
func (a *Agent) waitInputs(in *inputs) *inputs {
	a.startInputs(in)
	<-in.done
	if a.Status.InputsMS == 0 {
		a.Status.InputsMS = float64(in.took.Microseconds()) / 1000
	}
	return in
}

func (in *inputs) read(cfg Config, kernel string, keyPath func(string) string, secfs securityfs.FS, imaRing, evmRing keyload.RingSpec) {
	lsm, lsmErr := securityfs.ActiveLSMs(secfs)
	in.lsm = lsm
	in.imaRing = lookupTrusted(imaRing)
	in.ima, in.imaErr = keyload.ReadCertificates(keyPath(cfg.IMAKeysDir))
	in.evm, in.evmErr = keyload.ReadCertificates(keyPath(cfg.EVMKeysDir))
	if cfg.EVMX509 != "" {
		one := keyload.ReadCertificateFiles([]string{keyPath(cfg.EVMX509)})
		in.evmX509 = &one
	}
	if in.hasEVMCertificates() {
		in.evmRing = lookupTrusted(evmRing)
	}
	if cfg.IMAPolicy != "" {
		in.policyPath = keyPath(cfg.IMAPolicy)
		var kcfg *policygen.KernelConfig
		if lsmErr == nil {
			kcfg = &policygen.KernelConfig{ActiveLSM: policygen.ActiveLSMFromList(lsm)}
		}
		in.policy, in.policyErr = preparePolicy(in.policyPath, kernel, kcfg)
	}
}

// hasEVMCertificates: the EVM directory exists (whatever it holds) or
// EVM_X509 is set; otherwise there is no _evm to make.
func (in *inputs) hasEVMCertificates() bool {
	return !errors.Is(in.evmErr, fs.ErrNotExist) || in.evmX509 != nil
}

type trustedRing struct {
	ring  keyload.KernelKeyring
	found bool
	err   error
}

func lookupTrusted(spec keyload.RingSpec) trustedRing {
	k, ok, err := keyload.TrustedKeyring(spec)
	return trustedRing{ring: k, found: ok, err: err}
}

// open returns the trusted keyring found, else finds or creates the
// fallback (_ima, _evm) in the user keyring.
func (t trustedRing) open(spec keyload.RingSpec) (keyload.KernelKeyring, error) {
	if t.err != nil || t.found {
		return t.ring, t.err
	}
	return keyload.OpenFallbackKeyring(spec)
}

// preparePolicy reads the IMA policy and checks it against the running
// kernel's grammar (and its active LSMs, for LSM rules, when kcfg has them).
func preparePolicy(path, kernel string, kcfg *policygen.KernelConfig) (*policygen.Prepared, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read IMA policy: %w", err)
	}
	return policygen.Prepare(path, src, kernel, kcfg)
}
