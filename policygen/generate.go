package policygen

import (
	"fmt"
	"strings"
)

// GenerateOptions choose a profile and adapt it.
type GenerateOptions struct {
	// Profile is one of Profiles().
	Profile string
	// Kernel is the target version; zero means NewestKnown.
	Kernel KernelVersion
	// Config, when known, lets the profile leave out what the kernel lacks
	// (KEY_CHECK without IMA_MEASURE_ASYMMETRIC_KEYS).
	Config *KernelConfig
	// ExcludeFS names extra file systems (see Filesystems) to neither
	// measure nor appraise.
	ExcludeFS []string
	// Owner, when set, limits appraisal to files owned by this uid
	// (fowner=) and file measurement to processes of this uid.
	Owner *uint32
	// Appraisal is "imasig" (signatures required, the default) or "hash"
	// (a hash or a signature in security.ima is enough).
	Appraisal string
	// UseFsname writes fsname= instead of fsmagic= for exclusions.
	UseFsname bool
}

// Profile describes one profile.
type Profile struct {
	Name, Summary string
	// SignaturesForAll marks a profile that appraises every owner's files
	// with signatures: Generate refuses Owner and Appraisal "hash" for it,
	// as they would reopen what it closes.
	SignaturesForAll bool
}

// Profiles lists the profiles Generate knows.
func Profiles() []Profile {
	return []Profile{
		{Name: "tcb", Summary: "the kernel's built-in ima_policy=tcb of the target version: measure executables, mmapped code, files root reads, modules, firmware and policies"},
		{Name: "appraise_tcb", Summary: "the kernel's built-in ima_policy=appraise_tcb (with 7.3's configfs exclusion on every version): appraise every file owned by root"},
		{Name: "seed", Summary: "the mission's seed policy: signed executables and libraries for root, hashes for root's files, measurement of what runs"},
		{Name: "attest", Summary: "appraise everything executable (signatures), measure it for remote attestation, with the key and critical-data measurements a verifier needs"},
		{Name: "strict", Summary: "signatures required for all code (programs, mapped libraries, modules, firmware, kexec images) of every owner on every file system, tmpfs and memfd included; for appliances", SignaturesForAll: true},
	}
}

// policyWriter collects rules and comments.
type policyWriter struct {
	b    strings.Builder
	opts GenerateOptions
}

func (w *policyWriter) comment(format string, a ...any) {
	fmt.Fprintf(&w.b, "# "+format+"\n", a...)
}

func (w *policyWriter) rule(words ...string) {
	var kept []string
	for _, s := range words {
		if s != "" {
			kept = append(kept, s)
		}
	}
	w.b.WriteString(strings.Join(kept, " ") + "\n")
}

func (w *policyWriter) blank() { w.b.WriteString("\n") }

func (w *policyWriter) fsCondition(fs Filesystem) string {
	if w.opts.UseFsname {
		return "fsname=" + fs.Name
	}
	return fmt.Sprintf("fsmagic=%#x", fs.Magic)
}

// exclude writes "action fsmagic=..." (or fsname=) for each file system.
func (w *policyWriter) exclude(actions []string, names []string) {
	for _, name := range names {
		fs, _ := FilesystemByName(name)
		for _, a := range actions {
			w.rule(a, w.fsCondition(fs))
		}
		// The initramfs has ramfs's magic (tmpfs's without root=) but a
		// type name of its own: fsname=ramfs leaves it out, and a dracut
		// or initramfs-tools init would be refused its own programs.
		if w.opts.UseFsname && fs.Name == "ramfs" {
			for _, a := range actions {
				w.rule(a, "fsname="+rootfsName)
			}
		}
	}
}

func (w *policyWriter) signature() string {
	if w.opts.Appraisal == "hash" {
		return ""
	}
	return "appraise_type=imasig"
}

func (w *policyWriter) owner() string {
	if w.opts.Owner == nil {
		return ""
	}
	return fmt.Sprintf("fowner=%d", *w.opts.Owner)
}

func (w *policyWriter) user() string {
	if w.opts.Owner == nil {
		return "uid=0"
	}
	return fmt.Sprintf("uid=%d", *w.opts.Owner)
}

// Generate writes the policy of a profile, one rule per line with comments.
// The result passes Check for opts.Kernel.
func Generate(opts GenerateOptions) (string, error) {
	if opts.Kernel.IsZero() {
		opts.Kernel = NewestKnown
	}
	switch opts.Appraisal {
	case "":
		opts.Appraisal = "imasig"
	case "imasig", "hash":
	default:
		return "", fmt.Errorf("generate: appraisal %q: want imasig or hash", opts.Appraisal)
	}
	if p, ok := profileByName(opts.Profile); ok && p.SignaturesForAll {
		if opts.Owner != nil {
			return "", fmt.Errorf("generate: profile %s appraises the files of every owner: an owner limit would let any other owner's unsigned files run", p.Name)
		}
		if opts.Appraisal == "hash" {
			return "", fmt.Errorf("generate: profile %s requires signatures: with hash appraisal root could give any file a good hash and run it", p.Name)
		}
	}
	var extra []string
	for _, name := range opts.ExcludeFS {
		for _, n := range strings.Split(name, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			fs, ok := FilesystemByName(n)
			if !ok {
				return "", fmt.Errorf("generate: unknown file system %q (see imaboot-policygen filesystems)", n)
			}
			extra = append(extra, fs.Name)
		}
	}
	w := &policyWriter{opts: opts}
	w.comment("IMA policy generated by imaboot-policygen: profile %s, for Linux %s.", opts.Profile, opts.Kernel)
	w.comment("Rules are tried in order; for each of measure, appraise, audit and hash the first matching rule decides.")
	w.blank()
	switch opts.Profile {
	case "tcb":
		w.tcb(extra)
	case "appraise_tcb":
		w.appraiseTCB(extra)
	case "seed":
		w.seed(extra)
	case "attest":
		w.attest(extra)
	case "strict":
		w.strict(extra)
	default:
		var names []string
		for _, p := range Profiles() {
			names = append(names, p.Name)
		}
		return "", fmt.Errorf("generate: unknown profile %q: want one of %s", opts.Profile, strings.Join(names, ", "))
	}
	return w.b.String(), nil
}

// kernelTCBExclusions are the file systems of the kernel's dont_measure
// rules for ima_policy=tcb.
var kernelTCBExclusions = []string{"proc", "sysfs", "debugfs", "tmpfs", "devpts", "binfmt_misc",
	"securityfs", "selinuxfs", "smackfs", "cgroup", "cgroup2", "nsfs", "efivarfs"}

func (w *policyWriter) excludeComment(what string, names []string) {
	var parts []string
	for _, n := range names {
		fs, _ := FilesystemByName(n)
		parts = append(parts, fmt.Sprintf("%s=%#x", fs.Name, fs.Magic))
	}
	w.comment("%s: %s", what, strings.Join(parts, " "))
}

func dedupe(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func (w *policyWriter) tcb(extra []string) {
	g := grammarOf(w.opts.Kernel)
	base := kernelTCBExclusions
	if g.has(traitConfigfsExcluded) {
		base = append(append([]string(nil), base...), "configfs")
	}
	names := dedupe(base, extra)
	w.excludeComment("Not measured", names)
	for _, n := range names {
		fs, _ := FilesystemByName(n)
		// The kernel's own tcb rule for tmpfs may exclude only FILE_CHECK,
		// so executables run from tmpfs are measured.
		if fs.Name == "tmpfs" && g.has(traitTmpfsFileCheckOnly) {
			w.rule("dont_measure", w.fsCondition(fs), "func=FILE_CHECK")
			continue
		}
		w.rule("dont_measure", w.fsCondition(fs))
	}
	w.blank()
	w.comment("Measured: code mapped or executed, files root opens for reading, modules, firmware, policies.")
	w.rule("measure", "func=MMAP_CHECK", "mask=MAY_EXEC")
	w.rule("measure", "func=BPRM_CHECK", "mask=MAY_EXEC")
	w.rule("measure", "func=FILE_CHECK", "mask=^MAY_READ", "e"+w.user())
	w.rule("measure", "func=FILE_CHECK", "mask=^MAY_READ", w.user())
	w.rule("measure", "func=MODULE_CHECK")
	w.rule("measure", "func=FIRMWARE_CHECK")
	w.rule("measure", "func=POLICY_CHECK")
}

func (w *policyWriter) appraiseTCB(extra []string) {
	names := dedupe(PseudoFilesystems, extra)
	w.excludeComment("Not appraised", names)
	w.exclude([]string{"dont_appraise"}, names)
	w.blank()
	owner := w.owner()
	if owner == "" {
		owner = "fowner=0"
	}
	w.comment("Appraised: every file owned by uid %s, on every access.", strings.TrimPrefix(owner, "fowner="))
	w.rule("appraise", owner, w.signature())
}

// seedExtra are the file systems the mission's seed policy excludes on top
// of the pseudo file systems: ISO 9660 and FAT media.
var seedExtra = []string{"iso9660", "msdos"}

// seedPseudoExtra are pseudo file systems a Debian system mounts, beyond
// PseudoFilesystems, with files root writes that cannot be read back
// (apparmorfs's .replace, tracefs's trace_marker): the seed's hash rule
// must not reach them either.
var seedPseudoExtra = []string{"apparmorfs", "tracefs"}

func (w *policyWriter) seed(extra []string) {
	names := dedupe(PseudoFilesystems, seedPseudoExtra, seedExtra, extra)
	w.excludeComment("Neither measured, appraised nor hashed", names)
	w.comment("(dont_hash: without it the hash rule below makes the kernel hash every pseudo file root")
	w.comment("writes, and log an audit record for each one it cannot read back, sysfs attributes first.)")
	w.exclude([]string{"dont_measure", "dont_appraise", "dont_hash"}, names)
	w.blank()
	w.comment("Measured: executables, libraries mapped executable, files that uid %s opens for reading", strings.TrimPrefix(w.user(), "uid="))
	w.comment("(read-only or read-write, as the kernel's own tcb policy: mask=^MAY_READ).")
	w.rule("measure", "func=BPRM_CHECK")
	w.rule("measure", "func=MMAP_CHECK", "mask=MAY_EXEC")
	w.rule("measure", "func=FILE_CHECK", "mask=^MAY_READ", w.user())
	w.blank()
	owner := w.owner()
	if owner == "" {
		owner = "fowner=0"
	}
	w.comment("Appraised: executables and libraries owned by uid %s must be signed; the files it owns keep a hash.", strings.TrimPrefix(owner, "fowner="))
	w.rule("appraise", "func=BPRM_CHECK", owner, w.signature())
	w.rule("appraise", "func=MMAP_CHECK", owner, w.signature())
	w.rule("hash", owner)
}

// strictHooks are the hooks through which code reaches a process or the
// kernel on the kernels modeled here. MMAP_CHECK_REQPROT (6.3 on) is left
// out: from 6.3 MMAP_CHECK judges the final protection, which includes
// everything the requested one does (and READ_IMPLIES_EXEC's additions).
var strictHooks = []string{"BPRM_CHECK", "MMAP_CHECK", "MODULE_CHECK", "FIRMWARE_CHECK", "KEXEC_KERNEL_CHECK", "KEXEC_INITRAMFS_CHECK"}

// strict requires a signature for all code of every owner on every file
// system but the initramfs. See docs/imaboot-policygen.md for why rootfs
// is the one exclusion and what it leaves.
func (w *policyWriter) strict(extra []string) {
	w.comment("Not appraised: the initramfs. Its file system type, rootfs, belongs to the kernel's first")
	w.comment("mount alone (no mount can make another); cpio gives its files no security.ima, and a dracut")
	w.comment("or initramfs-tools init still runs them after this policy is loaded.")
	w.rule("dont_appraise", "fsname=rootfs")
	if len(extra) > 0 {
		w.excludeComment("Not appraised, as asked (--exclude-fs)", extra)
		w.exclude([]string{"dont_appraise"}, extra)
	}
	w.blank()
	w.comment("Signatures required, whoever owns the file and on every other file system (tmpfs included,")
	w.comment("so /run, /dev/shm and memfd): programs executed, files mapped executable (shared libraries,")
	w.comment("ld.so ./program), kernel modules, firmware, kernels and initramfs images loaded by kexec.")
	w.comment("No pseudo file system is excluded: nothing legitimate runs from proc or sysfs.")
	for _, f := range strictHooks {
		mask := ""
		if f == "MMAP_CHECK" {
			mask = "mask=MAY_EXEC"
		}
		w.rule("appraise", "func="+f, mask, "appraise_type=imasig")
	}
}

// attestKeyrings are the keyrings whose keys a verifier needs to trust the
// measurement list: the IMA/EVM keyrings (trusted and user-space ones) and
// the kernel's trust anchors.
var attestKeyrings = ".ima|.evm|_ima|_evm|.builtin_trusted_keys|.secondary_trusted_keys|.platform|.machine"

func (w *policyWriter) attest(extra []string) {
	names := dedupe(PseudoFilesystems, extra)
	w.excludeComment("Neither measured nor appraised", names)
	w.exclude([]string{"dont_measure", "dont_appraise"}, names)
	w.blank()
	if w.opts.Config.State("IMA_MEASURE_ASYMMETRIC_KEYS") != "n" {
		w.comment("Keys added to these keyrings are measured with their content (template ima-buf),")
		w.comment("so a verifier can check file signatures in the measurement list against them.")
		w.rule("measure", "func=KEY_CHECK", "keyrings="+attestKeyrings, "template=ima-buf")
	} else {
		w.comment("This kernel has no CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS: keys cannot be measured.")
	}
	w.comment("Kernel critical data (for example the SELinux state) for the verifier.")
	w.rule("measure", "func=CRITICAL_DATA", "template=ima-buf")
	w.blank()
	w.comment("Measured: everything executed or mapped executable, modules, firmware, kexec images and command lines, policies.")
	for _, f := range []string{"BPRM_CHECK", "MODULE_CHECK", "FIRMWARE_CHECK", "KEXEC_KERNEL_CHECK", "KEXEC_INITRAMFS_CHECK", "KEXEC_CMDLINE", "POLICY_CHECK"} {
		w.rule("measure", "func="+f)
	}
	w.rule("measure", "func=MMAP_CHECK", "mask=MAY_EXEC")
	w.blank()
	w.comment("Appraised: everything executed or mapped executable, kernel modules and kexec images.")
	w.comment("Firmware is left out: distributions do not ship it with IMA signatures.")
	for _, f := range []string{"BPRM_CHECK", "MODULE_CHECK", "KEXEC_KERNEL_CHECK", "KEXEC_INITRAMFS_CHECK"} {
		w.rule("appraise", "func="+f, w.owner(), w.signature())
	}
	w.rule("appraise", "func=MMAP_CHECK", "mask=MAY_EXEC", w.owner(), w.signature())
}

func profileByName(name string) (Profile, bool) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}
