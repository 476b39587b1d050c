package initagent

import (
	"context"
	"fmt"
	"strings"

	"github.com/imaboot/imaboot/efi"
)

// Appraisal modes of the kernel (security/integrity/ima: IMA_APPRAISE_*).
const (
	AppraiseEnforce = "enforce"
	AppraiseLog     = "log"
	AppraiseFix     = "fix"
	AppraiseOff     = "off"
)

// KernelAppraisal is what decides, before any policy, whether the running
// kernel enforces IMA appraisal: its command line and Secure Boot. On
// Debian's kernels (CONFIG_IMA_APPRAISE_BOOTPARAM=y) ima_appraise=log, fix
// or off turns refusals into log lines, and evm=fix stops EVM from
// protecting file metadata; the kernel ignores ima_appraise= only when it
// saw Secure Boot enabled. No securityfs file shows the mode, so it is
// read the way the kernel read it (ReadKernelAppraisal).
type KernelAppraisal struct {
	// Mode is the kernel's appraisal mode: AppraiseEnforce, ...Log, ...Fix
	// or ...Off.
	Mode string
	// Param is the command-line word that asked for a mode other than
	// enforce ("ima_appraise=log"), or "".
	Param string
	// Ignored: the kernel ignored Param because Secure Boot is on.
	Ignored bool
	// EVMFix is the command-line word that put EVM in fix mode
	// ("evm=fix"), or "".
	EVMFix     string
	SecureBoot efi.SecureBoot
}

// ReadKernelAppraisal decides as the kernel did at boot (6.1 and 6.12):
//   - ima_appraise= is a core parameter: the last one wins; its value is
//     matched by prefix ("off…", "log…", "fix…", "enforce…", as strncmp in
//     ima_appraise_parse_cmdline); any other value is refused by the kernel,
//     which keeps enforcing; a bare ima_appraise (no value) is refused too;
//   - the kernel ignores it when it saw Secure Boot enabled;
//   - evm= is a __setup parameter: every one whose value starts with "fix"
//     turns fix mode on, none turns it off;
//   - parameter names compare with '-' and '_' alike (parameq);
//   - what follows "--" belongs to init (ParseCmdline drops it).
func ReadKernelAppraisal(cl *Cmdline, sb efi.SecureBoot) KernelAppraisal {
	k := KernelAppraisal{Mode: AppraiseEnforce, SecureBoot: sb}
	for _, p := range cl.Params {
		name := strings.ReplaceAll(p.Key, "-", "_")
		switch {
		case name == "ima_appraise" && p.HasValue:
			mode := AppraiseEnforce
			for _, m := range []string{AppraiseOff, AppraiseLog, AppraiseFix} {
				if strings.HasPrefix(p.Value, m) {
					mode = m
				}
			}
			k.Param = ""
			if mode != AppraiseEnforce {
				k.Param = p.Key + "=" + p.Value
			}
			k.Mode = mode
		case name == "evm" && p.HasValue && strings.HasPrefix(p.Value, "fix"):
			k.EVMFix = p.Key + "=" + p.Value
		}
	}
	if k.Param != "" && sb.KernelIgnoresAppraiseParam() {
		k.Mode, k.Ignored = AppraiseEnforce, true
	}
	return k
}

// Enforces reports whether the kernel refuses what the policy's appraise
// rules refuse, with EVM protecting metadata.
func (k KernelAppraisal) Enforces() bool { return k.Mode == AppraiseEnforce && k.EVMFix == "" }

// Problem is one line naming what keeps the kernel from enforcing, or "".
func (k KernelAppraisal) Problem() string {
	var why []string
	if k.Mode != AppraiseEnforce {
		what := map[string]string{
			AppraiseLog: "appraisal failures are only logged",
			AppraiseFix: "appraisal failures are only logged and file hashes are rewritten",
			AppraiseOff: "nothing is appraised",
		}[k.Mode]
		sb := map[efi.SecureBootState]string{
			efi.NotEFI:   "no UEFI Secure Boot",
			efi.Disabled: "Secure Boot is off",
			efi.Unknown:  "Secure Boot state unknown here: taken to be off",
		}[k.SecureBoot.State]
		why = append(why, fmt.Sprintf("%s on the kernel command line: %s, unsigned programs run (%s)", k.Param, what, sb))
	}
	if k.EVMFix != "" {
		why = append(why, k.EVMFix+" on the kernel command line: EVM lets protected file metadata and security.ima be rewritten")
	}
	return strings.Join(why, "; ")
}

// Summary is the mode and why, for the step's detail.
func (k KernelAppraisal) Summary() string {
	switch {
	case k.Ignored:
		return fmt.Sprintf("kernel appraisal enforces: %s ignored by the kernel, Secure Boot is on (%s)", k.Param, k.SecureBoot.Source)
	case k.Enforces():
		return fmt.Sprintf("kernel appraisal enforces (no ima_appraise= or evm=fix on the command line; Secure Boot: %s)", k.SecureBoot)
	}
	return "kernel appraisal: " + k.Problem()
}

// checkAppraiseMode is the appraise-mode step: it reads what decides the
// kernel's appraisal and, in enforce mode, stops the boot when the kernel
// would not enforce, naming the parameter. Permissive mode warns and goes
// on; a break-glass boot is the sanctioned way to run with such a
// parameter (a labeling boot with ima_appraise=fix evm=fix).
func (a *Agent) checkAppraiseMode(context.Context) (string, error) {
	k := ReadKernelAppraisal(a.Cmdline, efi.ReadSecureBoot(efi.Sysfs{}))
	a.appraisal = k
	a.Status.AppraiseMode, a.Status.SecureBoot = k.Mode, string(k.SecureBoot.State)
	if a.Config.BreakGlass {
		a.Log.Warnf("%s", breakGlassBanner(k))
	}
	switch {
	case k.Enforces():
		return k.Summary(), nil
	case a.Config.BreakGlass:
		return "break-glass: " + k.Problem() + "; permitted for this boot", nil
	case a.Config.Mode == Permissive:
		return "", Warn("%s", k.Problem())
	}
	return "", fmt.Errorf("the kernel would not enforce: %s; remove it, or boot once with %s to repair or label", k.Problem(), breakGlassParam)
}
