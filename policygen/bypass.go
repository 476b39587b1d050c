package policygen

import (
	"fmt"
	"strings"
)

// The bypass report: the known ways around what a policy appraises, found
// in the accepted rules. It is about code, the files a process executes or
// maps executable and the files the kernel loads as code (modules,
// firmware, kexec images): data appraisal (FILE_CHECK) has no bypass to
// report, it is a choice.

// codeHook is a way code reaches a process or the kernel, with the rule
// hooks that appraise it and the access mask the kernel passes there.
type codeHook struct {
	name string
	// funcs are the func= values whose rules match it ("" is a rule
	// without func=).
	funcs []string
	// mask is the one access bit the kernel asks with: MAY_EXEC for
	// execution and mapping, MAY_READ for the files it reads itself.
	mask string
	// unappraised says what runs or loads unsigned without a rule.
	unappraised string
	// noFile, when set, is what only an explicit func= rule refuses: the
	// kernel sets its "appraise this hook" flag (ima_appraise_flag) for a
	// rule naming the hook, never for a rule without func=, and only that
	// flag refuses the same load without a file descriptor (ima_load_data).
	noFile string
}

var codeHooks = []codeHook{
	{name: "BPRM_CHECK", funcs: []string{"", "BPRM_CHECK", "CREDS_CHECK"}, mask: "MAY_EXEC",
		unappraised: "unsigned programs run (execve)"},
	{name: "MMAP_CHECK", funcs: []string{"", "MMAP_CHECK", "MMAP_CHECK_REQPROT"}, mask: "MAY_EXEC",
		unappraised: "unsigned shared libraries load, and \"ld.so ./program\" runs an unsigned program the kernel never executes"},
	{name: "MODULE_CHECK", funcs: []string{"", "MODULE_CHECK"}, mask: "MAY_READ",
		unappraised: "unsigned kernel modules load (finit_module, init_module)",
		noFile:      "init_module, which passes a module in memory,"},
	{name: "FIRMWARE_CHECK", funcs: []string{"", "FIRMWARE_CHECK"}, mask: "MAY_READ",
		unappraised: "unsigned firmware loads into devices",
		noFile:      "firmware written through the sysfs fallback"},
	{name: "KEXEC_KERNEL_CHECK", funcs: []string{"", "KEXEC_KERNEL_CHECK"}, mask: "MAY_READ",
		unappraised: "root can kexec an unsigned kernel and boot into it",
		noFile:      "kexec_load, which passes a kernel in memory,"},
	{name: "KEXEC_INITRAMFS_CHECK", funcs: []string{"", "KEXEC_INITRAMFS_CHECK"}, mask: "MAY_READ",
		unappraised: "root can kexec a kernel with an unsigned initramfs, whose /init runs before any policy"},
}

func (h codeHook) matchedBy(e *entry) bool {
	found := false
	for _, f := range h.funcs {
		if e.fn == f {
			found = true
		}
	}
	if !found || e.mask == "" {
		return found
	}
	return strings.TrimPrefix(e.mask, "^") == h.mask
}

// matchesCode reports whether a rule can match any code hook.
func matchesCode(e *entry) bool {
	for _, h := range codeHooks {
		if h.matchedBy(e) {
			return true
		}
	}
	return false
}

// bypass is one finding of the report: a diagnostic, and the few words
// the boot agent's one-line summary uses for it.
type bypass struct {
	Diagnostic
	kind  string // what the summary groups by
	label string
}

// Kinds of bypass, in the order the summary lists them.
const (
	kindLimited   = "appraisal limited by"
	kindExempt    = "not appraised:"
	kindHash      = "a hash is enough:"
	kindNoHook    = "no appraisal of"
	kindNoFile    = "not refused without a file:"
	kindNoneAtAll = "nothing appraised"
)

var kindOrder = []string{kindNoneAtAll, kindNoHook, kindNoFile, kindLimited, kindExempt, kindHash}

// bypassReport looks at the rules Check accepted (decides[i] is false for
// a rule an earlier one always decides for) and returns the bypasses, and
// the note about what no policy closes.
func bypassReport(rules []checkedRule, decides []bool, v KernelVersion) []bypass {
	var out []bypass
	add := func(r *Rule, col int, sev Severity, code, kind, label, format string, a ...any) {
		d := Diagnostic{Severity: sev, Code: code, Message: fmt.Sprintf(format, a...)}
		if r != nil {
			d.File, d.Line, d.Column = r.File, r.Line, col
		}
		out = append(out, bypass{Diagnostic: d, kind: kind, label: label})
	}
	// What each code hook gets: an appraise rule without limits (full),
	// only limited ones, only rules without func= (for noFile).
	full := map[string]bool{}
	covered := map[string]bool{}
	named := map[string]bool{}
	lastAppraise := -1
	for i, cr := range rules {
		if !decides[i] || cr.e.action != "appraise" {
			continue
		}
		for _, h := range codeHooks {
			if !h.matchedBy(cr.e) {
				continue
			}
			covered[h.name] = true
			lastAppraise = i
			if cr.e.fn != "" {
				named[h.name] = true
			}
			if len(limits(cr.e)) == 0 {
				full[h.name] = true
			}
		}
	}
	if len(covered) == 0 {
		add(nil, 0, Warning, CodeBypassHook, kindNoneAtAll, "",
			"the policy appraises no code: unsigned programs, libraries, kernel modules, firmware and kexec images all run or load")
		return out
	}
	for i, cr := range rules {
		if !decides[i] {
			continue
		}
		r, e := &cr.rule, cr.e
		switch {
		case e.action == "appraise" && matchesCode(e):
			lim := limits(e)
			hooks := hooksOf(e)
			if len(lim) > 0 && !allFull(hooks, full) {
				var words, what []string
				for _, l := range lim {
					words = append(words, l.word)
					what = append(what, l.set)
				}
				col := e.firstWord(limitFlags).Column
				if col == 0 {
					col = firstLSMColumn(*r)
				}
				add(r, col, Warning, CodeBypassLimited, kindLimited, strings.Join(words, " "),
					"appraisal of code limited to %s: %s", strings.Join(what, " and "), joinSentences(lim))
			}
			if e.flags&fDigsig == 0 {
				add(r, e.actionCol, Warning, CodeBypassHash, kindHash, fmt.Sprintf("line %d", r.Line),
					"a hash in security.ima is enough (no appraise_type=imasig): root can give any file a good hash (setfattr, evmctl ima_hash) and run it, and with ima_appraise=fix the kernel writes one itself")
			}
		case e.action == "dont_appraise" && matchesCode(e) && i < lastAppraise:
			ex := exemptions(e)
			if len(ex) == 0 {
				continue // a whole hook left out: the missing-hook warning says it
			}
			var labels, what []string
			for _, l := range ex {
				labels = append(labels, l.label())
				what = append(what, l.prep+" "+l.set)
			}
			col := e.firstWord(limitFlags).Column
			if col == 0 {
				col = firstLSMColumn(*r)
			}
			add(r, col, Warning, CodeBypassExempt, kindExempt, strings.Join(labels, " "),
				"code %s is not appraised: %s", strings.Join(what, " and "), joinSentences(ex))
		}
	}
	for _, h := range codeHooks {
		switch {
		case !covered[h.name]:
			add(nil, 0, Warning, CodeBypassHook, kindNoHook, h.name, "no appraise rule for %s: %s", h.name, h.unappraised)
		case h.noFile != "" && !named[h.name]:
			add(nil, 0, Warning, CodeBypassHook, kindNoFile, h.name,
				"%s is appraised only by rules without func=: files are appraised, but %s is refused only when a rule names func=%s", h.name, h.noFile, h.name)
		}
	}
	if covered["BPRM_CHECK"] {
		add(nil, 0, Note, CodeBypassInterpreter, "", "",
			"no policy on Linux %s appraises a script an interpreter reads (sh script.sh, python3 x.py) or code a signed program writes into its own memory (JIT, ptrace, /proc/PID/mem): IMA appraises only files that are executed, mapped executable or loaded by the kernel", v)
	}
	return out
}

// limitFlags are the conditions that narrow whom or what a rule covers.
const limitFlags = fFsmagic | fFsname | fFsSubtype | fFsuuid | fUID | fEUID | fGID | fEGID | fFowner | fFgroup

func joinSentences(ls []limit) string {
	var s []string
	for _, l := range ls {
		s = append(s, l.around)
	}
	return strings.Join(s, "; ")
}

func hooksOf(e *entry) []string {
	var hs []string
	for _, h := range codeHooks {
		if h.matchedBy(e) {
			hs = append(hs, h.name)
		}
	}
	return hs
}

func allFull(hooks []string, full map[string]bool) bool {
	for _, h := range hooks {
		if !full[h] {
			return false
		}
	}
	return true
}

var opWords = map[byte]string{'=': "", '<': "below ", '>': "above "}

// limit is one condition of a rule: the words as written, the set of
// files or processes it describes, and who gets around it.
type limit struct {
	word   string
	prep   string // "in", "run by", "on": how code relates to set
	set    string
	around string
	fs     string // the file system's name, for fsmagic= and fsname=
}

// label names a limit in the summary line: the file system's name when
// known, else the words as written.
func (l limit) label() string {
	if l.fs != "" {
		return l.fs
	}
	return l.word
}

// conditions describes each condition of a rule that narrows whom or what
// it matches, in the rule's terms (exempt: a dont_appraise rule).
func conditions(e *entry, exempt bool) []limit {
	var ls []limit
	id := func(c idCond, prep, format, onlyAround, exemptAround string) {
		if !c.set {
			return
		}
		w := fmt.Sprintf("%s%c%d", c.key, c.op, c.val)
		l := limit{word: w, prep: prep, set: fmt.Sprintf(format, opWords[c.op], c.val) + " (" + w + ")", around: onlyAround}
		if exempt {
			l.around = exemptAround
		}
		ls = append(ls, l)
	}
	id(e.fowner, "in", "files owned by uid %s%d",
		"a file owned by anyone else is not appraised: users run their own unsigned files, and root can chown an unsigned file to another uid and run it",
		"that owner runs unsigned programs, and root can chown any file to it")
	id(e.fgroup, "in", "files of group %s%d",
		"a file of another group is not appraised: its owner can chgrp it",
		"the owner of a file can chgrp it to that group")
	subject := "processes whose " + longID(e.uid.key) + " is %s%d"
	id(e.uid, "run by", subject, "every other user runs unsigned code", "those processes run unsigned code")
	subject = "processes whose " + longID(e.gid.key) + " is %s%d"
	id(e.gid, "run by", subject, "processes of other groups run unsigned code", "those processes run unsigned code")
	if e.flags&(fFsmagic|fFsname|fFsuuid|fFsSubtype) != 0 {
		fs, known := ruleFilesystem(e)
		l := limit{word: fsWords(e), prep: "on", set: fsDescription(e),
			around: "code on every other file system, tmpfs (/run, /dev/shm, memfd) included, is not appraised"}
		if e.flags&(fFsmagic|fFsname) != 0 && known {
			l.fs = fs.Name
		}
		if exempt {
			l.around = codeFilesystemRisk(e, fs, known)
		}
		ls = append(ls, l)
	}
	for _, k := range LSMWords {
		if v, ok := e.lsm[k]; ok {
			w := k + "=" + v
			l := limit{word: w, prep: "in", set: "what the LSM labels " + w,
				around: "code labeled otherwise is not appraised, and whoever may relabel files chooses"}
			if exempt {
				l.around = "whoever may label files so chooses what runs unsigned"
			}
			ls = append(ls, l)
		}
	}
	return ls
}

// limits lists what narrows an appraise rule.
func limits(e *entry) []limit { return conditions(e, false) }

// exemptions lists what a dont_appraise rule leaves unappraised; nothing
// when the rule applies only to a file system that cannot hold code, or
// to the initramfs (trusted as a whole, and out of reach after the
// switch: see docs/imaboot-policygen.md, profile strict).
func exemptions(e *entry) []limit {
	if e.flags&(fFsmagic|fFsname) != 0 {
		if fs, known := ruleFilesystem(e); known && (fs.Name == rootfsName || !fs.HoldsCode()) {
			return nil
		}
	}
	return conditions(e, true)
}

func fsWords(e *entry) string { return strings.Join(fsConditions(e), " ") }

func fsDescription(e *entry) string {
	var d []string
	if e.flags&(fFsmagic|fFsname) != 0 {
		if fs, ok := ruleFilesystem(e); ok {
			d = append(d, fs.Name+" file systems ("+fsWords(e)+")")
		} else {
			d = append(d, "the file systems of "+fsWords(e))
		}
	}
	if e.flags&fFsuuid != 0 {
		d = append(d, "the file system with UUID "+e.fsuuid)
	}
	if e.flags&fFsSubtype != 0 && e.flags&(fFsmagic|fFsname) == 0 {
		d = append(d, "FUSE subtype "+e.fsSubtype)
	}
	return strings.Join(d, " and ")
}

// rootfsName is the type of the kernel's first mount, the initramfs: ramfs
// or tmpfs inside (fsmagic says which), but its own type name, which no
// mount can ask for (init/do_mounts.c never registers it).
const rootfsName = "rootfs"

// ruleFilesystem is the file system a rule's fsmagic= or fsname= names.
func ruleFilesystem(e *entry) (Filesystem, bool) {
	if e.flags&fFsname != 0 {
		if e.fsname == rootfsName {
			return Filesystem{Name: rootfsName}, true
		}
		return FilesystemByName(e.fsname)
	}
	return FilesystemByMagic(e.fsmagic)
}

// codeFilesystemRisk says who runs unsigned code when the file systems of
// e's conditions are exempt.
func codeFilesystemRisk(e *entry, fs Filesystem, known bool) string {
	switch {
	case e.flags&(fFsmagic|fFsname) == 0 && e.flags&fFsuuid != 0:
		return "whatever that file system holds runs unsigned"
	case e.flags&(fFsmagic|fFsname) == 0:
		return "whoever runs that FUSE server chooses what runs unsigned"
	case !known:
		return "a file system imaboot-policygen does not know: check that it cannot hold programs"
	case fs.Name == "tmpfs":
		return "any user runs unsigned programs from /run/user, /dev/shm or /tmp (when tmpfs), or from a memfd (memfd_create, fexecve)"
	case fs.Name == "ramfs":
		return "root can mount a ramfs and run unsigned programs from it"
	case fs.Name == "hugetlbfs":
		return "code in a hugetlbfs file or a MFD_HUGETLB memfd is not appraised"
	case fs.Name == "overlay":
		return "programs on overlay mounts (container roots, live systems) run unsigned"
	case fs.Name == "fuse":
		return "any user allowed to mount FUSE (fusermount3) serves unsigned programs"
	}
	switch fs.Kind {
	case "network":
		return fmt.Sprintf("whoever controls a %s server chooses what runs", fs.Name)
	case "media":
		return "whoever can mount a medium of this type (USB stick, CD, disk image) runs what is on it"
	}
	return fmt.Sprintf("every %s file system, a second disk, a USB stick or a loop-mounted image of that type included, runs unsigned programs", fs.Name)
}

// bypassSummary is one line for a boot log: how many bypasses the report
// found and what they are, grouped, with no detail. Empty when there are
// none (notes do not count).
func bypassSummary(bs []bypass) string {
	groups := map[string][]string{}
	n := 0
	for _, b := range bs {
		if b.Severity != Warning {
			continue
		}
		n++
		if b.label != "" && !contains(groups[b.kind], b.label) {
			groups[b.kind] = append(groups[b.kind], b.label)
		} else if b.label == "" {
			groups[b.kind] = append(groups[b.kind], "")
		}
	}
	if n == 0 {
		return ""
	}
	var parts []string
	for _, k := range kindOrder {
		ls, ok := groups[k]
		if !ok {
			continue
		}
		var named []string
		for _, l := range ls {
			if l != "" {
				named = append(named, l)
			}
		}
		if len(named) == 0 {
			parts = append(parts, k)
			continue
		}
		parts = append(parts, k+" "+strings.Join(named, ", "))
	}
	plural := "es"
	if n == 1 {
		plural = ""
	}
	return fmt.Sprintf("%d known bypass%s: %s", n, plural, strings.Join(parts, "; "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
