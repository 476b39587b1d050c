package initagent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/policygen"
)

// inputs are the integrity steps' files, read, parsed and checked: the
// certificates and the IMA policy. Nothing here touches the kernel's
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

	// took is how long the reading and checking ran (wall time: when it
	// overlaps the kernel's device probing, the two share the CPU).
	took time.Duration
}

// startInputs begins reading the integrity inputs in the background, once.
// Called at the end of the configuration step when the files do not come
// from the root (or the root is already there, in hook mode).
func (a *Agent) startInputs() {
	if a.in != nil {
		return
	}
	in := &inputs{done: make(chan struct{})}
	a.in = in
	// The goroutine gets copies: the agent's fields are not its to read.
	cfg, kernel, root := a.Config, a.kernel, a.NewRoot
	keyPath := func(p string) string { return keyPathIn(cfg, root, p) }
	go func() {
		defer close(in.done)
		t0 := time.Now()
		in.read(cfg, kernel, keyPath)
		in.took = time.Since(t0)
	}()
}

// waitInputs returns the inputs, reading them now if nothing started it.
func (a *Agent) waitInputs() *inputs {
	a.startInputs()
	<-a.in.done
	if a.Status.InputsMS == 0 {
		a.Status.InputsMS = float64(a.in.took.Microseconds()) / 1000
	}
	return a.in
}

func (in *inputs) read(cfg Config, kernel string, keyPath func(string) string) {
	in.imaRing = lookupTrusted(keyload.IMARing)
	in.ima, in.imaErr = keyload.ReadCertificates(keyPath(cfg.IMAKeysDir))
	in.evm, in.evmErr = keyload.ReadCertificates(keyPath(cfg.EVMKeysDir))
	if cfg.EVMX509 != "" {
		one := keyload.ReadCertificateFiles([]string{keyPath(cfg.EVMX509)})
		in.evmX509 = &one
	}
	if !errors.Is(in.evmErr, fs.ErrNotExist) || in.evmX509 != nil {
		// evm-certificates has something to load.
		in.evmRing = lookupTrusted(keyload.EVMRing)
	}
	if cfg.IMAPolicy != "" {
		in.policyPath = keyPath(cfg.IMAPolicy)
		in.policy, in.policyErr = preparePolicy(in.policyPath, kernel)
	}
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
// kernel's grammar (and its active LSMs, for LSM rules).
func preparePolicy(path, kernel string) (*policygen.Prepared, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read IMA policy: %w", err)
	}
	var cfg *policygen.KernelConfig
	if lsm, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		cfg = &policygen.KernelConfig{ActiveLSM: policygen.ActiveLSMFromList(string(lsm))}
	}
	return policygen.Prepare(path, src, kernel, cfg)
}
