package policygen

import (
	"fmt"
	"strings"
)

var hookWords = map[string]string{
	"":                      "every file access IMA sees",
	"FILE_CHECK":            "files opened",
	"MMAP_CHECK":            "files mapped into memory",
	"MMAP_CHECK_REQPROT":    "files mapped into memory (judged by the protection the program asked for)",
	"BPRM_CHECK":            "programs executed",
	"CREDS_CHECK":           "programs executed (judged with the credentials they run with)",
	"MODULE_CHECK":          "kernel modules loaded",
	"FIRMWARE_CHECK":        "firmware loaded",
	"KEXEC_KERNEL_CHECK":    "kernels loaded by kexec",
	"KEXEC_INITRAMFS_CHECK": "initramfs images loaded by kexec",
	"POLICY_CHECK":          "IMA policy files",
	"KEXEC_CMDLINE":         "the kernel command line given to kexec",
	"KEY_CHECK":             "keys added to keyrings",
	"CRITICAL_DATA":         "kernel critical data",
	"SETXATTR_CHECK":        "writes of security.ima",
}

var maskWords = map[string]string{
	"MAY_EXEC": "execute", "MAY_WRITE": "write", "MAY_READ": "read", "MAY_APPEND": "append",
}

// Explain describes each rule in plain words, one paragraph per rule,
// prefixed with its line. Rules the kernel would refuse are said so. The
// bypass report follows the rule it is about ("Bypass: ..."); what is
// about the policy as a whole comes last.
func Explain(rules []Rule, v KernelVersion, cfg *KernelConfig) []string {
	_, bypasses := check(rules, v, cfg)
	byLine := map[int][]string{}
	var whole []string
	for _, b := range bypasses {
		text := bypassWord(b.Severity) + ": " + b.Message + "."
		if b.Line == 0 {
			whole = append(whole, text)
			continue
		}
		byLine[b.Line] = append(byLine[b.Line], text)
	}
	var out []string
	for _, r := range rules {
		e, found := emulate(r.Tokens, r.Comment, v, cfg)
		prefix := fmt.Sprintf("line %d: %s\n  ", r.Line, r.Canonical())
		if code := firstError(found); code != nil {
			out = append(out, prefix+fmt.Sprintf("Refused by Linux %s: %s.", v, code.msg))
			continue
		}
		out = append(out, prefix+strings.Join(append([]string{describe(e)}, byLine[r.Line]...), "\n  "))
	}
	if len(whole) > 0 {
		out = append(out, "The policy as a whole:\n  "+strings.Join(whole, "\n  "))
	}
	return out
}

func bypassWord(s Severity) string {
	if s == Note {
		return "Note"
	}
	return "Bypass"
}

func firstError(found []finding) *finding {
	for i := range found {
		if found[i].severity == Error {
			return &found[i]
		}
	}
	return nil
}

func describe(e *entry) string {
	var what []string
	what = append(what, hookWords[e.fn])
	if e.mask != "" {
		m := strings.TrimPrefix(e.mask, "^")
		if strings.HasPrefix(e.mask, "^") {
			what = append(what, "when the access asked for includes "+maskWords[m])
		} else {
			what = append(what, "when the access asked for is exactly "+maskWords[m])
		}
	}
	who := conditionWords(e)
	subject := strings.Join(what, " ")
	if len(who) > 0 {
		subject += ", " + strings.Join(who, ", ")
	}
	var s string
	switch e.action {
	case "measure":
		pcr := "PCR 10 (CONFIG_IMA_MEASURE_PCR_IDX)"
		if e.flags&fPCR != 0 {
			pcr = fmt.Sprintf("PCR %d", e.pcr)
		}
		s = fmt.Sprintf("Measure %s: record their hash in the measurement list and extend %s", subject, pcr)
		if e.template != "" {
			s += fmt.Sprintf(", using template %s", e.template)
		}
	case "dont_measure":
		s = "Do not measure " + subject
	case "appraise":
		s = "Appraise " + subject + ": access is refused unless security.ima holds "
		switch {
		case e.flags&fSigv3 != 0 || e.flags&fVerity != 0:
			s += "a valid signature (v3) of the file's fs-verity digest"
		case e.flags&fModsig != 0:
			s += "a valid signature, or the file carries an appended one"
		case e.flags&fDigsig != 0:
			s += "a valid signature by a key in the IMA keyring"
		default:
			s += "a valid hash or signature"
		}
		if len(e.algos) > 0 {
			s += fmt.Sprintf(" made with %s", strings.Join(e.algos, " or "))
		}
		if e.flags&fDirectio != 0 {
			s += "; direct I/O is allowed"
		}
	case "dont_appraise":
		s = "Do not appraise " + subject
	case "audit":
		s = "Audit " + subject + ": log their hash to the audit log"
	case "dont_audit":
		s = "Do not audit " + subject
	case "hash":
		s = "Keep security.ima up to date with the hash of " + subject + " (so a later appraisal finds a good value)"
	case "dont_hash":
		s = "Do not keep hashes for " + subject
	}
	if e.fn == "SETXATTR_CHECK" {
		s = fmt.Sprintf("Allow security.ima to be written only with hashes made with %s", strings.Join(e.algos, ", "))
	}
	return s + "."
}

func conditionWords(e *entry) []string {
	var w []string
	opWord := map[byte]string{'=': "", '<': "below ", '>': "above "}
	if e.uid.set {
		w = append(w, fmt.Sprintf("by processes whose %s is %s%d", longID(e.uid.key), opWord[e.uid.op], e.uid.val))
	}
	if e.gid.set {
		w = append(w, fmt.Sprintf("by processes whose %s is %s%d", longID(e.gid.key), opWord[e.gid.op], e.gid.val))
	}
	if e.fowner.set {
		w = append(w, fmt.Sprintf("owned by uid %s%d", opWord[e.fowner.op], e.fowner.val))
	}
	if e.fgroup.set {
		w = append(w, fmt.Sprintf("of group %s%d", opWord[e.fgroup.op], e.fgroup.val))
	}
	if e.flags&fFsmagic != 0 {
		if fs, ok := FilesystemByMagic(e.fsmagic); ok {
			w = append(w, fmt.Sprintf("on %s file systems (fsmagic %#x)", fs.Name, e.fsmagic))
		} else {
			w = append(w, fmt.Sprintf("on file systems with magic %#x", e.fsmagic))
		}
	}
	if e.flags&fFsname != 0 {
		w = append(w, "on "+e.fsname+" file systems")
	}
	if e.flags&fFsSubtype != 0 {
		w = append(w, "of subtype "+e.fsSubtype)
	}
	if e.flags&fFsuuid != 0 {
		w = append(w, "on the file system with UUID "+e.fsuuid)
	}
	if len(e.keyrings) > 0 {
		w = append(w, "in keyrings "+strings.Join(e.keyrings, ", "))
	}
	if len(e.labels) > 0 {
		w = append(w, "labelled "+strings.Join(e.labels, ", "))
	}
	for _, k := range LSMWords {
		if v, ok := e.lsm[k]; ok {
			w = append(w, fmt.Sprintf("with LSM %s %s", strings.ReplaceAll(k, "_", " "), v))
		}
	}
	return w
}

func longID(key string) string {
	return map[string]string{"uid": "user id", "euid": "effective user id", "gid": "group id", "egid": "effective group id"}[key]
}
