package initagent

import (
	"fmt"

	"github.com/imaboot/imaboot/policygen"
)

// The break-glass boot: imaboot.break_glass on the kernel command line
// (honoured unless BREAK_GLASS=no or CMDLINE_OVERRIDE=no) brings up, for
// that one boot, a machine whose enforcement blocks its own repair. It is
// the one sanctioned way to boot with ima_appraise=fix|log|off or evm=fix,
// which enforce mode otherwise refuses.
//
// What the agent does differently, and why:
//   - every failure is a warning (the mode is permissive): a broken key or
//     policy must not keep the admin out;
//   - certificates load and the keyrings are sealed as usual: the repair
//     boot must not let root add a key the next enforcing boot trusts;
//   - the policy loses its appraise and dont_appraise rules, so the kernel
//     refuses nothing, but keeps its measure rules (the measurement list
//     shows what ran during the repair) and its hash rules (files edited
//     during the repair keep current hashes for the next boot). When the
//     kernel's own mode already refuses nothing (ima_appraise=fix, log or
//     off, which the break-glass permits), the policy loads whole: in a
//     fix-mode labeling boot its appraise rules are what make the kernel
//     write labels (imaboot-relabel --kernel-fix);
//   - it is loud: a warning on the console and in the kernel log, break_glass
//     and enforcement "off" in the status file, and a marker in the IMA
//     measurement list (and so in the TPM's PCR 10): the agent measures a
//     file named breakGlassMarker, under a rule of its own
//     (markerRule), before the switch;
//   - lockdown stays at none unless LOCKDOWN says otherwise.
//
// The break-glass lasts one boot because the kernel command line does: it
// is typed at the boot loader, never written into its configuration.

// breakGlassMarker is the probe the agent measures in a break-glass boot;
// its name (the measurement list records the path) says what happened.
var breakGlassMarker = probeFile{
	name:    "imaboot-break-glass",
	content: "imaboot break-glass boot: nothing was enforced in this boot\n",
}

// withoutAppraisal is the break-glass policy when the kernel would enforce:
// every rule but appraise and dont_appraise.
func withoutAppraisal(rules []policygen.Rule) []policygen.Rule {
	var kept []policygen.Rule
	for _, r := range rules {
		if a := ruleAction(r); a != "appraise" && a != "dont_appraise" {
			kept = append(kept, r)
		}
	}
	return kept
}

// appraises reports whether a policy has an appraise rule: without one
// there is nothing for the canary to prove.
func appraises(rules []policygen.Rule) bool {
	for _, r := range rules {
		if ruleAction(r) == "appraise" {
			return true
		}
	}
	return false
}

func ruleAction(r policygen.Rule) string {
	if len(r.Tokens) == 0 {
		return ""
	}
	return r.Tokens[0].Text
}

// breakGlassBanner is the line a break-glass boot prints first.
func breakGlassBanner(k KernelAppraisal) string {
	what := "the IMA policy loads without its appraise rules"
	if k.Mode != AppraiseEnforce {
		what = fmt.Sprintf("the kernel appraises in %s mode (%s) and the IMA policy loads whole", k.Mode, k.Param)
	}
	return fmt.Sprintf("BREAK-GLASS BOOT (%s): nothing is enforced in this boot: %s; every failure is a warning; the boot is marked in the IMA measurement list", breakGlassParam, what)
}
