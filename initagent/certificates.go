package initagent

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/imaboot/imaboot/keyload"
)

// keyPath is where the agent reads a key, certificate or policy file: in
// the initramfs (copied there at build time, out of reach of an offline
// edit of the root disk), or in the new root when so configured.
func (a *Agent) keyPath(p string) string { return keyPathIn(a.Config, a.NewRoot, p) }

func keyPathIn(cfg Config, root, p string) string {
	if cfg.KeysFromRoot {
		return filepath.Join(root, p)
	}
	return p
}

// loadIMACertificates fills the IMA keyring. Any certificate that does not
// load is a failure (in enforce mode the boot stops), and so is loading
// fewer than the configured minimum: an empty directory must not leave an
// appraising system without keys.
//
// It returns the keyring for seal-keyrings, also when a certificate failed
// (permissive mode goes on with what loaded); a zero keyring when none was
// opened.
func (a *Agent) loadIMACertificates(in *inputs) (string, keyload.KernelKeyring, error) {
	min := a.Config.MinIMACertificates()
	// The keyring is made even when there is nothing to load: sealed
	// empty, nobody can fill it later.
	ring, err := in.imaRing.open(a.imaRing)
	if err != nil {
		return "", keyload.KernelKeyring{}, err
	}
	if errors.Is(in.imaErr, fs.ErrNotExist) && min == 0 {
		return "", ring, Skip(fmt.Sprintf("no certificate directory %s", a.keyPath(a.Config.IMAKeysDir)))
	}
	if in.imaErr != nil {
		return "", ring, in.imaErr
	}
	report, err := in.ima.Load(ring)
	a.logCerts(report)
	if err != nil {
		return "", ring, err
	}
	if err := report.MinLoaded(min); err != nil {
		return "", ring, err
	}
	return report.Summary(), ring, nil
}

// loadEVMCertificates fills the EVM keyring from the EVM directory and the
// single EVM_X509 file; with neither present there is nothing to do. It
// returns how many loaded, for enable-evm's X509 bit, and the keyring for
// seal-keyrings.
func (a *Agent) loadEVMCertificates(in *inputs) (string, int, keyload.KernelKeyring, error) {
	missing := errors.Is(in.evmErr, fs.ErrNotExist)
	if missing && in.evmX509 == nil {
		// Nothing to load: no empty _evm keyring either.
		return "", 0, keyload.KernelKeyring{}, Skip(fmt.Sprintf("no certificate directory %s", a.keyPath(a.Config.EVMKeysDir)))
	}
	ring, err := in.evmRing.open(a.evmRing)
	if err != nil {
		return "", 0, keyload.KernelKeyring{}, err
	}
	if in.evmErr != nil && !missing {
		return "", 0, ring, in.evmErr
	}
	set := in.evm
	if in.evmX509 != nil {
		set.Sources = append(set.Sources[:len(set.Sources):len(set.Sources)], in.evmX509.Sources...)
		set.Results = append(set.Results[:len(set.Results):len(set.Results)], in.evmX509.Results...)
	}
	report, err := set.Load(ring)
	a.logCerts(report)
	if err != nil {
		// A failed step enables nothing, even in permissive mode.
		return "", 0, ring, err
	}
	return report.Summary(), report.Loaded(), ring, nil
}

func (a *Agent) logCerts(r keyload.CertReport) {
	for _, l := range r.Lines() {
		a.Log.Infof("%s", l)
	}
}
