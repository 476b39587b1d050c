package initagent

import (
	"fmt"
	"strings"

	"github.com/imaboot/imaboot/keyload"
)

// sealKeyrings is the seal-keyrings step: once the certificates are in,
// _ima and _evm are closed to every later key (keyload.Seal), so that root
// cannot add a certificate of its own after the switch and have its files
// pass. A ring already sealed before loading (keyload.Seal returned it
// marked Sealed: the Secure Boot trust mode's CA keyring inside it) is only
// reported; that CA keyring (TRUST=ca: _ima_ca, _evm_ca) is closed by its
// permissions (keyload.CloseCAKeyring). KEYRINGS=open leaves them open,
// with a warning. Keys are rotated with a new initramfs, never live.
func (a *Agent) sealKeyrings(rings ...keyload.KernelKeyring) (string, error) {
	var opened []keyload.KernelKeyring
	for _, r := range rings {
		if r.ID != 0 {
			opened = append(opened, r)
		}
	}
	if len(opened) == 0 {
		return "", Skip("no IMA or EVM keyring was opened")
	}
	if !a.Config.SealKeyrings {
		a.Status.Keyrings = "open"
		return "", a.leaveKeyringsOpen(opened)
	}
	var done []string
	state := "kernel-restricted"
	for _, r := range opened {
		var rep keyload.SealReport
		var err error
		if r.CA != nil {
			rep, err = keyload.CloseCAKeyring(r, false)
		} else {
			rep, err = keyload.Seal(r)
		}
		if err != nil {
			a.Status.Keyrings = "open"
			if len(done) > 0 {
				err = fmt.Errorf("%w (already sealed: %s)", err, strings.Join(done, "; "))
			}
			return "", err
		}
		if rep.How != "kernel-restricted" {
			state = "sealed"
		}
		if k := a.trustKeyring(r.Name); k != nil && r.CA != nil {
			k.Closed = true
		}
		done = append(done, rep.String())
	}
	a.Status.Keyrings = state
	return strings.Join(done, "; "), nil
}

// leaveKeyringsOpen is KEYRINGS=open: nothing more is sealed. A ring
// sealed before loading (TRUST=ca: _ima, _evm) stays sealed; the CA
// keyring inside it stays open to certificates its CA signed, and nothing
// else. The warning says which is which.
func (a *Agent) leaveKeyringsOpen(rings []keyload.KernelKeyring) error {
	var open, toCA, sealed []string
	for _, r := range rings {
		switch {
		case r.Sealed:
			sealed = append(sealed, r.String())
		case r.CA != nil:
			// Open to what the CA signed, and that for good: no setattr.
			if _, err := keyload.CloseCAKeyring(r, true); err != nil {
				return err
			}
			toCA = append(toCA, r.String())
		default:
			open = append(open, r.String())
		}
	}
	var what []string
	if len(open) > 0 {
		what = append(what, fmt.Sprintf("%s stay open: root can add certificates of its own after the switch", strings.Join(open, ", ")))
	}
	if len(toCA) > 0 {
		what = append(what, fmt.Sprintf("%s stay open to certificates the owner's CA signed: root can add one after the switch, nothing else", strings.Join(toCA, ", ")))
	}
	if len(sealed) > 0 {
		what = append(what, fmt.Sprintf("%s sealed before loading (TRUST=ca)", strings.Join(sealed, ", ")))
	}
	return Warn("KEYRINGS=open: %s", strings.Join(what, "; "))
}
