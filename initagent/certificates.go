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
func (a *Agent) keyPath(p string) string {
	if a.Config.KeysFromRoot {
		return filepath.Join(a.NewRoot, p)
	}
	return p
}

// loadIMACertificates fills the IMA keyring. Any certificate that does not
// load is a failure (in enforce mode the boot stops), and so is loading
// fewer than the configured minimum: an empty directory must not leave an
// appraising system without keys.
func (a *Agent) loadIMACertificates(ctx context.Context) (string, error) {
	min := a.Config.MinIMACertificates()
	dir := a.keyPath(a.Config.IMAKeysDir)
	ring, err := keyload.OpenKeyring(keyload.IMARing)
	if err != nil {
		return "", err
	}
	report, err := keyload.LoadCertificates(dir, ring)
	if errors.Is(err, fs.ErrNotExist) && min == 0 {
		return "", Skip(fmt.Sprintf("no certificate directory %s", dir))
	}
	for _, l := range report.Lines() {
		a.Log.Infof("%s", l)
	}
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
	ring, err := keyload.OpenKeyring(keyload.EVMRing)
	if err != nil {
		return "", err
	}
	dir := a.keyPath(a.Config.EVMKeysDir)
	report, err := keyload.LoadCertificates(dir, ring)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		a.logCerts(report)
		return "", err
	}
	if a.Config.EVMX509 != "" {
		one, err := keyload.LoadCertificateFiles([]string{a.keyPath(a.Config.EVMX509)}, ring)
		report.Sources = append(report.Sources, one.Sources...)
		report.Results = append(report.Results, one.Results...)
		if err != nil {
			a.logCerts(report)
			return "", err
		}
	} else if missing {
		return "", Skip(fmt.Sprintf("no certificate directory %s", dir))
	}
	a.logCerts(report)
	a.evmCerts = report.Loaded()
	return report.Summary(), nil
}

func (a *Agent) logCerts(r keyload.CertReport) {
	for _, l := range r.Lines() {
		a.Log.Infof("%s", l)
	}
}
