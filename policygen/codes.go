package policygen

import "strings"

// Diagnostic codes. Errors first, then warnings.
const (
	// Errors: the kernel refuses the rule.
	CodeUnknown     = "unknown-keyword" // a word no pattern of the kernel's token table matches
	CodeNewer       = "newer-keyword"   // a word or value the target kernel is too old for
	CodeValue       = "bad-value"       // a value the kernel cannot parse
	CodeDuplicate   = "duplicate"       // a condition given twice where the kernel refuses it
	CodeAction      = "action"          // no action, or more than one
	CodeOrder       = "order"           // a word that is refused where it stands but not elsewhere
	CodeCombination = "combination"     // func × action × condition rules of ima_validate_rule
	CodeConfig      = "config"          // needs a kernel build option that is off (or, as a warning, unknown)
	CodeModule      = "module"          // needs a crypto module that is =m (warning: accepted once loaded)
	CodeLSM         = "lsm"             // LSM condition the active LSM does not take (warning when unknown)
	CodeComment     = "inline-comment"  // inline comment before 6.14
	CodeCRLF        = "crlf"            // carriage return in a line
	CodeNUL         = "nul"             // NUL byte in a line
	CodeLength      = "length"          // rule longer than one write can carry
	CodePath        = "path"            // a line starting with '/' is a policy file path to the kernel

	// Warnings: legal, but surely unintended, or depends on the machine.
	CodeShadowed      = "shadowed"       // an earlier broader rule of the same kind always decides first
	CodeSameRule      = "duplicate-rule" // the same rule twice
	CodeMaskRead      = "mask-read"      // mask=MAY_READ where ^MAY_READ was likely meant
	CodePseudoFS      = "pseudo-fs"      // appraise without exclusions for pseudo file systems
	CodeLSMInitramfs  = "lsm-initramfs"  // LSM condition in a policy loaded before the LSM policy
	CodeAlias         = "alias"          // PATH_CHECK / FILE_MMAP
	CodeEmpty         = "empty"          // no rules at all
	CodeUUIDTrailing  = "uuid-trailing"  // text after the 36 UUID characters is ignored by the kernel
	CodeSignedPolicy  = "signed-policy"  // appraise func=POLICY_CHECK: later policy updates must be signed files
	CodeVersionBounds = "version"        // target kernel outside the versions modeled here
	CodeIgnored       = "ignored"        // accepted and ignored by the kernel
	CodeInitramfs     = "initramfs"      // code appraised in the initramfs too: a generator's init fails after the hook

	// The bypass report (warnings): known ways around what the policy
	// appraises of code (bypass.go).
	CodeBypassHook    = "bypass-hook"    // a way code is loaded that no appraise rule covers
	CodeBypassLimited = "bypass-limited" // appraisal of code limited by owner, user, file system or LSM label
	CodeBypassExempt  = "bypass-exempt"  // dont_appraise for code someone can place (tmpfs, an owner, a user...)
	CodeBypassHash    = "bypass-hash"    // appraisal of code that accepts a hash instead of a signature

	// Notes: facts about every policy.
	CodeBypassInterpreter = "bypass-interpreter" // what no policy appraises: scripts read by interpreters, code written to memory
)

// IsBypass reports whether a diagnostic code belongs to the bypass report.
func IsBypass(code string) bool { return strings.HasPrefix(code, "bypass-") }

// uncertainCodes mark warnings whose verdict depends on what Check could
// not know (configuration, LSM, loaded modules).
var uncertainCodes = map[string]bool{CodeConfig: true, CodeLSM: true, CodeModule: true, CodeVersionBounds: true}
