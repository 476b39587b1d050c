package policygen

import (
	"fmt"
	"math"
	"strings"
)

// The cases of ima_parse_rule for the conditions: what a rule matches.

func (m *emulator) funcCondition(a wordArg) {
	e, t, val := &m.e, a.t, a.val
	if e.fn != "" {
		m.errorf(t.Column, CodeDuplicate, "func given twice (already func=%s)", e.fn)
		return
	}
	h, ok := funcs[val]
	if !ok {
		m.errorf(a.valCol, CodeValue, "unknown func %q%s", val, suggestFrom(val, FuncNames))
		return
	}
	if !m.g.funcs[val] {
		m.errorf(a.valCol, CodeNewer, "func=%s is not in the grammar of Linux %s (it is in %s)", val, m.v, h.since)
		return
	}
	if h.config != "" && !m.needConfig(a.valCol, h.config, "func="+val) {
		return
	}
	e.fn = h.canonical
	if h.canonical != val {
		e.fnAlias = val
	}
	e.set(fFunc, t)
}

func (m *emulator) maskCondition(a wordArg) {
	e, t, val := &m.e, a.t, a.val
	if e.mask != "" {
		m.errorf(t.Column, CodeDuplicate, "mask given twice (already mask=%s)", e.mask)
		return
	}
	name := strings.TrimPrefix(val, "^")
	if !masks[name] {
		m.errorf(a.valCol, CodeValue, "unknown mask %q: want MAY_EXEC, MAY_WRITE, MAY_READ or MAY_APPEND, optionally after ^", val)
		return
	}
	e.mask = val
	if strings.HasPrefix(val, "^") {
		e.set(fInMask, t)
	} else {
		e.set(fMask, t)
	}
}

func (m *emulator) fsmagicCondition(a wordArg) {
	e, t, val := &m.e, a.t, a.val
	if e.fsmagic != 0 {
		m.errorf(t.Column, CodeDuplicate, "fsmagic given twice (already %#x)", e.fsmagic)
		return
	}
	n, ok := kstrtoul(val, 16)
	if !ok {
		hint := ""
		if fs, found := FilesystemByName(val); found {
			hint = fmt.Sprintf("; for %s write fsmagic=%#x", fs.Name, fs.Magic)
		}
		m.errorf(a.valCol, CodeValue, "fsmagic=%s is not a hexadecimal number%s", val, hint)
		return
	}
	e.fsmagic = n
	e.set(fFsmagic, t)
}

func (m *emulator) fsnameCondition(a wordArg) {
	e, t, val := &m.e, a.t, a.val
	if e.flags&fFsname != 0 {
		m.warnf(t.Column, CodeIgnored, "fsname given twice: the kernel keeps only the last one (%s)", val)
	}
	e.fsname = val
	e.set(fFsname, t)
}

func (m *emulator) fsSubtypeCondition(a wordArg) {
	e, t := &m.e, a.t
	if e.flags&fFsSubtype != 0 {
		m.errorf(t.Column, CodeDuplicate, "fs_subtype given twice")
		return
	}
	e.fsSubtype = a.val
	e.set(fFsSubtype, t)
}

func (m *emulator) fsuuidCondition(a wordArg) {
	e, t, val, valCol := &m.e, a.t, a.val, a.valCol
	if e.flags&fFsuuid != 0 && e.fsuuid != nullUUID {
		m.errorf(t.Column, CodeDuplicate, "fsuuid given twice")
		return
	}
	if !uuidValid(val) {
		m.errorf(valCol, CodeValue, "fsuuid=%s is not a UUID (want 8-4-4-4-12 hexadecimal digits)", val)
		return
	}
	if len(val) > 36 {
		m.warnf(valCol+36, CodeUUIDTrailing, "the kernel reads only the first 36 characters of fsuuid=; %q is ignored", val[36:])
	}
	e.fsuuid = strings.ToLower(val[:36])
	e.set(fFsuuid, t)
}

// idCondition handles uid, euid, gid, egid, fowner and fgroup with any
// operator.
func (m *emulator) idCondition(a wordArg) {
	e, t, key, op, val := &m.e, a.t, a.key, a.op, a.val
	slot := map[string]*idCond{"uid": &e.uid, "euid": &e.uid, "gid": &e.gid, "egid": &e.gid, "fowner": &e.fowner, "fgroup": &e.fgroup}[key]
	if slot.set {
		m.errorf(t.Column, CodeDuplicate, "%s%c conflicts with %s%c%d: the kernel keeps one %s condition per rule", key, op, slot.key, slot.op, slot.val, strings.TrimPrefix(slot.key, "e"))
		return
	}
	n, ok := kstrtoul(val, 10)
	// make_kuid/make_kgid refuse (uid_t)-1, and the value must fit in 32 bits.
	if !ok || n >= math.MaxUint32 {
		m.errorf(a.valCol, CodeValue, "%s%c%s: want a decimal id from 0 to 4294967294", key, op, val)
		return
	}
	*slot = idCond{set: true, key: key, op: op, val: n}
	e.set(map[string]flag{"uid": fUID, "euid": fEUID, "gid": fGID, "egid": fEGID, "fowner": fFowner, "fgroup": fFgroup}[key], t)
}

// listCondition handles keyrings= and label=, '|'-separated lists.
func (m *emulator) listCondition(a wordArg) {
	e, t, key, val := &m.e, a.t, a.key, a.val
	if key == "keyrings" && !m.needConfig(t.Column, "IMA_MEASURE_ASYMMETRIC_KEYS", "keyrings=") {
		return
	}
	list := &e.keyrings
	f := fKeyrings
	if key == "label" {
		list, f = &e.labels, fLabel
	}
	if *list != nil {
		m.errorf(t.Column, CodeDuplicate, "%s given twice", key)
		return
	}
	items := strings.Split(val, "|")
	for _, it := range items {
		if it == "" {
			m.errorf(a.valCol, CodeValue, "%s=%s has an empty item", key, val)
			return
		}
	}
	*list = items
	e.set(f, t)
}

// lsm handles obj_*= and subj_*= as ima_lsm_rule_init does while no custom
// policy is loaded yet (the initramfs case): a condition the active LSM
// cannot turn into an audit rule makes the kernel refuse the rule.
func (m *emulator) lsm(t Token, key, val string) {
	e := &m.e
	if _, dup := e.lsm[key]; dup {
		m.errorf(t.Column, CodeDuplicate, "%s given twice", key)
		return
	}
	if m.cfg.State("IMA_LSM_RULES") == "n" {
		m.errorf(t.Column, CodeConfig, "%s= needs CONFIG_IMA_LSM_RULES, which this kernel does not have", key)
		return
	}
	switch lsm := m.cfg.activeLSM(); lsm {
	case "apparmor":
		if key != "subj_role" {
			m.errorf(t.Column, CodeLSM, "%s=: AppArmor, the active LSM, handles only subj_role= (an AppArmor label); the kernel refuses the rule", key)
			return
		}
	case "none":
		m.errorf(t.Column, CodeLSM, "%s=: no active LSM handles LSM conditions; the kernel refuses the rule", key)
		return
	case "selinux", "smack":
		m.warnf(t.Column, CodeLSM, "%s= is accepted only if %s has loaded its policy before the IMA policy is written", key, lsm)
	default:
		m.warnf(t.Column, CodeLSM, "%s=: accepted only if the active LSM knows it (with AppArmor only subj_role=; SELinux needs its policy loaded); the active LSM is unknown", key)
	}
	if e.lsm == nil {
		e.lsm = map[string]string{}
	}
	e.lsm[key] = val
}

func (c *KernelConfig) activeLSM() string {
	if c == nil {
		return ""
	}
	return c.ActiveLSM
}
