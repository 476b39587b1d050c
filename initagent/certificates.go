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
// appraising system without keys. With TRUST=ca the certificates go into
// the CA keyring trust-ca made inside _ima; seal-keyrings closes it.
//
// It returns the keyring for seal-keyrings (the CA keyring with TRUST=ca),
// also when a certificate failed (permissive mode goes on with what
// loaded); a zero keyring when none was opened.
func (a *Agent) loadIMACertificates(in *inputs, ca *caRings) (string, keyload.KernelKeyring, error) {
	min := a.Config.MinIMACertificates()
	// The keyring is made even when there is nothing to load: sealed
	// empty, nobody can fill it later.
	ring, err := a.certRing(in.imaRing, a.imaRing, ca.forIMA())
	if err != nil {
		return "", keyload.KernelKeyring{}, err
	}
	if errors.Is(in.imaErr, fs.ErrNotExist) && min == 0 {
		return "", ring, Skip(fmt.Sprintf("no certificate directory %s", a.keyPath(a.Config.IMAKeysDir)))
	}
	if in.imaErr != nil {
		return "", ring, in.imaErr
	}
	report, err := a.loadCerts(in.ima, ring)
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
func (a *Agent) loadEVMCertificates(in *inputs, ca *caRings) (string, int, keyload.KernelKeyring, error) {
	if !in.hasEVMCertificates() {
		// Nothing to load: no empty _evm keyring either.
		return "", 0, keyload.KernelKeyring{}, Skip(fmt.Sprintf("no certificate directory %s", a.keyPath(a.Config.EVMKeysDir)))
	}
	ring, err := a.certRing(in.evmRing, a.evmRing, ca.forEVM())
	if err != nil {
		return "", 0, keyload.KernelKeyring{}, err
	}
	if in.evmErr != nil && !errors.Is(in.evmErr, fs.ErrNotExist) {
		return "", 0, ring, in.evmErr
	}
	set := in.evm
	if in.evmX509 != nil {
		set.Sources = append(set.Sources[:len(set.Sources):len(set.Sources)], in.evmX509.Sources...)
		set.Results = append(set.Results[:len(set.Results):len(set.Results)], in.evmX509.Results...)
	}
	report, err := a.loadCerts(set, ring)
	if err != nil {
		// A failed step enables nothing, even in permissive mode.
		return "", 0, ring, err
	}
	return report.Summary(), report.Loaded(), ring, nil
}

// certRing is where a certificate step loads: the CA keyring trust-ca made
// (TRUST=ca), else the IMA/EVM keyring found or made for spec.
func (a *Agent) certRing(trusted trustedRing, spec keyload.RingSpec, caRing *keyload.KernelKeyring) (keyload.KernelKeyring, error) {
	if caRing != nil {
		return *caRing, nil
	}
	return trusted.open(spec)
}

// loadCerts loads set into ring, reports each certificate, and records in
// the status what a CA keyring took.
func (a *Agent) loadCerts(set keyload.CertSet, ring keyload.KernelKeyring) (keyload.CertReport, error) {
	report, err := set.Load(ring)
	a.logCerts(report)
	if ring.CA != nil {
		a.recordCACertificates(ring, report)
	}
	return report, err
}

func (a *Agent) logCerts(r keyload.CertReport) {
	for _, l := range r.Lines() {
		a.Log.Infof("%s", l)
	}
}
