package initagent

import (
	"context"
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
func (a *Agent) loadIMACertificates(ctx context.Context) (string, error) {
	min := a.Config.MinIMACertificates()
	in := a.waitInputs()
	ring, err := in.imaRing.open(keyload.IMARing)
	if err != nil {
		return "", err
	}
	if errors.Is(in.imaErr, fs.ErrNotExist) && min == 0 {
		return "", Skip(fmt.Sprintf("no certificate directory %s", a.keyPath(a.Config.IMAKeysDir)))
	}
	if in.imaErr != nil {
		return "", in.imaErr
	}
	report, err := in.ima.Load(ring)
	a.logCerts(report)
	if err != nil {
		return "", err
	}
	if err := report.MinLoaded(min); err != nil {
		return "", err
	}
	return report.Summary(), nil
}

// loadEVMCertificates fills the EVM keyring from the EVM directory and the
// single EVM_X509 file; with neither present there is nothing to do.
func (a *Agent) loadEVMCertificates(ctx context.Context) (string, error) {
	in := a.waitInputs()
	missing := errors.Is(in.evmErr, fs.ErrNotExist)
	if missing && in.evmX509 == nil {
		// Nothing to load: no empty _evm keyring either.
		return "", Skip(fmt.Sprintf("no certificate directory %s", a.keyPath(a.Config.EVMKeysDir)))
	}
	ring, err := in.evmRing.open(keyload.EVMRing)
	if err != nil {
		return "", err
	}
	if in.evmErr != nil && !missing {
		return "", in.evmErr
	}
	set := in.evm
	if in.evmX509 != nil {
		set.Sources = append(set.Sources[:len(set.Sources):len(set.Sources)], in.evmX509.Sources...)
		set.Results = append(set.Results[:len(set.Results):len(set.Results)], in.evmX509.Results...)
	}
	report, err := set.Load(ring)
	a.logCerts(report)
	if err != nil {
		return "", err
	}
	a.evmCerts = report.Loaded()
	return report.Summary(), nil
}

func (a *Agent) logCerts(r keyload.CertReport) {
	for _, l := range r.Lines() {
		a.Log.Infof("%s", l)
	}
}
