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
// reported. KEYRINGS=open leaves them open, with a warning. Keys are rotated with a new initramfs, never live.
func (a *Agent) sealKeyrings(rings ...keyload.KernelKeyring) (string, error) {
	var opened []keyload.KernelKeyring
	var names []string
	for _, r := range rings {
		if r.ID != 0 {
			opened = append(opened, r)
			names = append(names, r.String())
		}
	}
	if len(opened) == 0 {
		return "", Skip("no IMA or EVM keyring was opened")
	}
	if !a.Config.SealKeyrings {
		a.Status.Keyrings = "open"
		return "", Warn("KEYRINGS=open: %s stay open: root can add certificates of its own after the switch", strings.Join(names, ", "))
	}
	var done []string
	state := "kernel-restricted"
	for _, r := range opened {
		rep, err := keyload.Seal(r)
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
		done = append(done, rep.String())
	}
	a.Status.Keyrings = state
	return strings.Join(done, "; "), nil
}
