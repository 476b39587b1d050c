package initagent

import (
	"fmt"
	"strings"

	"github.com/imaboot/imaboot/keyload"
)

// caRings is what trust-ca hands on: to the certificate steps, the keyrings
// inside _ima and _evm that take only certificates the owner's CA signed;
// to seal-keyrings, _ima and _evm as trust-ca sealed them (nil when
// TRUST=none, or when trust-ca failed in permissive mode).
type caRings struct {
	ima, evm *keyload.KernelKeyring
	// parents are _ima and _evm, sealed (keyload.OpenCAKeyring).
	parents []keyload.KernelKeyring
}

func (c *caRings) forIMA() *keyload.KernelKeyring {
	if c == nil {
		return nil
	}
	return c.ima
}

func (c *caRings) forEVM() *keyload.KernelKeyring {
	if c == nil {
		return nil
	}
	return c.evm
}

// sealedParents are the keyrings trust-ca sealed, for seal-keyrings to
// report.
func (c *caRings) sealedParents() []keyload.KernelKeyring {
	if c == nil {
		return nil
	}
	return c.parents
}

// trustCA is the trust-ca step (TRUST=ca): it finds the owner's CA among
// the keys the kernel trusts (put there by the firmware: a Machine Owner
// Key in .machine), makes the CA keyrings inside _ima (and _evm, when EVM
// certificates are configured) and seals _ima and _evm so that nothing
// else can enter them, before any certificate is loaded
// (keyload.OpenCAKeyring). The chain goes into the status file as it is
// found.
func (a *Agent) trustCA(in *inputs) (string, *caRings, error) {
	if a.Config.Trust != TrustOwnerCA {
		return "", nil, Skip("TRUST=none: certificates are not checked against an owner's CA")
	}
	st := &TrustStatus{Mode: TrustOwnerCA, CA: TrustCAStatus{KeyID: a.Config.TrustCA}}
	a.Status.Trust = st
	if in.kernelKeysErr != nil {
		return "", nil, in.kernelKeysErr
	}
	st.MachineKeyringTrusted = in.kernelKeys.MachineTrusted
	ca, err := in.kernelKeys.FindCA(a.Config.TrustCA)
	if err != nil {
		return "", nil, fmt.Errorf("TRUST_CA=%s: %w", a.Config.TrustCA, err)
	}
	st.CA.Found, st.CA.Subject, st.CA.Keyrings = true, ca.Subject, ca.Rings

	rings := &caRings{}
	names := []string{}
	open := func(parentRing trustedRing, spec keyload.RingSpec) (*keyload.KernelKeyring, error) {
		parent, err := parentRing.open(spec)
		if err != nil {
			return nil, err
		}
		ring, sealed, err := keyload.OpenCAKeyring(parent, ca)
		if err != nil {
			return nil, err
		}
		rings.parents = append(rings.parents, sealed)
		st.Keyrings = append(st.Keyrings, TrustKeyringStatus{Name: ring.Name, Parent: parent.Name})
		names = append(names, parent.Name)
		return &ring, nil
	}
	// On an error the CA keyrings made so far are handed on all the same: in
	// permissive mode their parents are already closed, and the certificates
	// still go where the kernel will look.
	if rings.ima, err = open(in.imaRing, a.imaRing); err != nil {
		return "", rings, err
	}
	if in.hasEVMCertificates() {
		if rings.evm, err = open(in.evmRing, a.evmRing); err != nil {
			return "", rings, err
		}
	}
	where := strings.Join(ca.Rings, ", ")
	if in.kernelKeys.MachineTrusted && ca.Rings[0] == keyload.RingMachine {
		where += " (shim's MokListTrustedRT: .machine is linked into .secondary_trusted_keys)"
	}
	verb := "accepts"
	if len(names) > 1 {
		verb = "accept"
	}
	return fmt.Sprintf("owner's CA %q, key id %s, found in %s; %s %s only certificates it signed", ca.Subject, ca.ID, where, strings.Join(names, " and "), verb), rings, nil
}

// recordCACertificates puts what a CA keyring took into the status file's
// chain.
func (a *Agent) recordCACertificates(ring keyload.KernelKeyring, report keyload.CertReport) {
	k := a.trustKeyring(ring.Name)
	if k == nil {
		return
	}
	k.Certificates = []TrustedCertStatus{}
	for _, r := range report.Results {
		if r.Loaded() {
			k.Certificates = append(k.Certificates, TrustedCertStatus{File: r.Cert.File, Subject: r.Cert.Subject, KeyID: r.Cert.KeyID})
		}
	}
}

// trustKeyring is the status entry of the CA keyring called name, or nil.
func (a *Agent) trustKeyring(name string) *TrustKeyringStatus {
	if a.Status.Trust == nil {
		return nil
	}
	for i := range a.Status.Trust.Keyrings {
		if a.Status.Trust.Keyrings[i].Name == name {
			return &a.Status.Trust.Keyrings[i]
		}
	}
	return nil
}
