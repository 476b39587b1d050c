package initagent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/securityfs"
)

// Proving enforcement before the switch, with probes (probe.go).
//
// prove-enforcement runs right after the policy is written and before EVM
// is switched on: the canary carries a well-formed IMA signature that
// verifies nothing, so the kernel's appraisal of the mapping reaches
// signature verification, which is where it looks _ima up for the first
// time and keeps it for the rest of the boot (integrity_keyring_from_id in
// security/integrity/digsig.c: request_key from the task that triggers the
// first verification, cached). That lookup then searches the agent's own
// keyrings, so no keyring another task prepared can become the one the
// kernel keeps. With EVM on, an IMA signature is checked only after a
// valid EVM label, which the canary cannot have: hence the order.
//
// pin-evm-keyring does the same for _evm once EVM is on with its X509
// bit: its canary carries an EVM portable signature that verifies nothing.

// canaryKeyID is the key id the canary's signature names: the first
// certificate read from dir, so the kernel finds a key and refuses the
// signature itself (0 when there is none).
func canaryKeyID(set keyload.CertSet) uint32 {
	for _, r := range set.Results {
		if r.Err == nil && r.Cert.KeyID != "" {
			if id, err := strconv.ParseUint(r.Cert.KeyID, 16, 32); err == nil {
				return uint32(id)
			}
		}
	}
	return 0
}

// proveEnforcement is the prove-enforcement step.
func (a *Agent) proveEnforcement(in *inputs, pl policyLoad) (string, error) {
	if a.Config.BreakGlass {
		return a.markBreakGlass(pl)
	}
	switch {
	case !pl.loaded && a.Config.IMAPolicy == "":
		a.setEnforcement(EnforcementNone, "no IMA policy configured (IMA_POLICY is empty)")
		return "", Skip("no IMA policy configured")
	case !pl.loaded:
		a.setEnforcement(EnforcementUnproven, "no IMA policy was loaded")
		return "", Warn("no IMA policy was loaded: nothing is enforced")
	case !pl.appraises:
		a.setEnforcement(EnforcementNone, "the IMA policy has no appraise rule")
		return "", Skip("the IMA policy has no appraise rule: nothing to enforce")
	}
	canary := probeFile{
		name:    "imaboot-enforcement-canary",
		content: "imaboot enforcement canary: not a program\n",
		xattrs:  []probeXattr{{"security.ima", wrongSignature(xattrIMASignature, canaryKeyID(in.ima))}},
	}
	res, kernel, err := a.probeWatchingLog(canary)
	covered := "imaboot's canary rule"
	if !pl.canary {
		covered = "the signed policy"
	}
	switch {
	case err != nil:
		a.setEnforcement(EnforcementUnproven, "the canary could not be placed: "+err.Error())
		return "", Warn("enforcement unproven: the canary could not be placed: %v", err)
	case res.refused() && strings.Contains(kernel, "no _ima keyring"):
		a.setEnforcement(EnforcementProven, "the kernel refused the unsigned canary, but found no _ima keyring from the agent")
		return "", Warn("enforcement proven (the canary was refused), but the kernel found no _ima keyring from the agent: the first signature check after the switch will look it up (kernel: %s)", kernel)
	case res.refused():
		a.setEnforcement(EnforcementProven, fmt.Sprintf("the kernel refused to map imaboot's unsigned canary %s for execution (EACCES) under %s; _ima was looked up from the agent", res.Path, covered))
		return a.Status.EnforcementDetail, nil
	case res.passed() && pl.canary:
		why := fmt.Sprintf("the kernel mapped imaboot's unsigned canary %s for execution (no EACCES) although %s covers it: IMA appraisal is not enforcing", res.Path, covered)
		a.setEnforcement(EnforcementOff, why)
		if a.Config.Mode == Permissive {
			return "", Warn("%s", why)
		}
		return "", errors.New(why)
	case res.passed():
		why := "the signed policy does not appraise a mapping for execution of a file owned by uid " + strconv.Itoa(probeOwner) + " on tmpfs, so the canary was mapped; _ima is looked up by the first signature check after the switch"
		a.setEnforcement(EnforcementUnproven, why)
		return "", Warn("enforcement unproven: %s", why)
	}
	why := fmt.Sprintf("mapping the canary %s for execution gave %s, neither EACCES nor a mapping", res.Path, res.verdict())
	a.setEnforcement(EnforcementUnproven, why)
	return "", Warn("enforcement unproven: %s", why)
}

// pinEVMKeyring is the pin-evm-keyring step, after enable-evm.
func (a *Agent) pinEVMKeyring(in *inputs, pl policyLoad, evmX509 bool) (string, error) {
	switch {
	case !evmX509:
		return "", Skip("EVM verifies no signatures (no EVM certificate loaded)")
	case a.Config.BreakGlass:
		return "", Skip("break-glass boot")
	case !pl.canary:
		return "", Warn("imaboot's canary rule is not in the loaded policy: _evm is looked up by the first EVM signature check after the switch")
	}
	canary := probeFile{
		name:    "imaboot-evm-canary",
		content: "imaboot EVM canary: not a program\n",
		xattrs: []probeXattr{
			// security.ima first: with the HMAC key, EVM refuses a
			// protected xattr on a file whose security.evm does not verify.
			{"security.ima", wrongSignature(xattrIMASignature, canaryKeyID(in.ima))},
			{"security.evm", wrongSignature(xattrEVMPortableSig, canaryKeyID(in.evm))},
		},
	}
	res, kernel, err := a.probeWatchingLog(canary)
	switch {
	case err != nil:
		return "", Warn("the EVM canary could not be placed: %v; _evm is looked up by the first EVM signature check after the switch", err)
	case strings.Contains(kernel, "no _evm keyring"):
		return "", Warn("the kernel found no _evm keyring from the agent (kernel: %s)", kernel)
	case res.refused():
		return fmt.Sprintf("EVM refused the canary %s's portable signature (EACCES): _evm was looked up from the agent", res.Path), nil
	}
	return "", Warn("the EVM canary %s was answered %s, not EACCES: _evm may not have been looked up before the switch", res.Path, res.verdict())
}

// markBreakGlass is prove-enforcement in a break-glass boot: nothing is
// proven; the marker is measured when its rule went in.
func (a *Agent) markBreakGlass(pl policyLoad) (string, error) {
	detail := "break-glass boot: nothing is enforced"
	switch {
	case !pl.marker:
		detail += "; no marker in the measurement list (imaboot's marker rule is not in the loaded policy)"
	default:
		res, err := a.runProbe(breakGlassMarker)
		switch {
		case err != nil:
			detail += "; the marker could not be measured: " + err.Error()
		case res.passed():
			detail += "; marker measured: " + res.Path
		default:
			detail += fmt.Sprintf("; mapping the marker %s gave %s: measured only if the kernel got that far", res.Path, res.verdict())
		}
	}
	a.setEnforcement(EnforcementOff, detail)
	return "", Warn("%s", detail)
}

func (a *Agent) runProbe(f probeFile) (probeResult, error) {
	if a.probe != nil {
		return a.probe(f)
	}
	return runProbe(probeDir, f)
}

func (a *Agent) setEnforcement(state, detail string) {
	a.Status.Enforcement, a.Status.EnforcementDetail = state, detail
}

// probeWatchingLog runs a probe and returns the integrity lines the kernel
// logged meanwhile ("integrity: no _ima keyring: -126" says the lookup
// found nothing), joined; "" when the log cannot be read.
func (a *Agent) probeWatchingLog(f probeFile) (probeResult, string, error) {
	log, logErr := securityfs.OpenKmsgReader("/dev/kmsg")
	res, err := a.runProbe(f)
	if logErr != nil {
		return res, "", err
	}
	defer log.Close()
	msgs, _ := log.Read()
	var said []string
	for _, m := range msgs {
		if strings.Contains(m, "keyring") {
			said = append(said, m)
		}
	}
	return res, strings.Join(said, " | "), err
}
