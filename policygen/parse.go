package policygen

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// finding is a diagnostic before it is given a file and line.
type finding struct {
	col      int
	severity Severity
	code     string
	msg      string
}

type emulator struct {
	v     KernelVersion
	cfg   *KernelConfig
	e     entry
	found []finding
	words []Token
}

func (m *emulator) errorf(col int, code, format string, a ...any) {
	m.found = append(m.found, finding{col, Error, code, fmt.Sprintf(format, a...)})
}

func (m *emulator) warnf(col int, code, format string, a ...any) {
	m.found = append(m.found, finding{col, Warning, code, fmt.Sprintf(format, a...)})
}

func (m *emulator) failed() bool {
	for _, f := range m.found {
		if f.severity == Error {
			return true
		}
	}
	return false
}

// emulate judges one rule the way ima_parse_rule and ima_validate_rule of
// kernel v do. Like the kernel it stops at the first error, so at most one
// error is reported per rule; warnings are collected along the way.
func emulate(tokens []Token, comment *Token, v KernelVersion, cfg *KernelConfig) (*entry, []finding) {
	m := &emulator{v: v, cfg: cfg, words: tokens}
	m.e.pcr = -1
	if len(tokens) > 0 && strings.HasPrefix(tokens[0].Text, "/") {
		m.errorf(tokens[0].Column, CodePath, "a write starting with '/' is read by the kernel as the path of a policy file, not as a rule")
		return &m.e, m.found
	}
	for _, t := range tokens {
		m.word(t)
		if m.failed() {
			return &m.e, m.found
		}
	}
	if comment != nil && !v.AtLeast(sinceInlineComment) {
		m.errorf(comment.Column, CodeComment, "inline comment: Linux %s refuses the rule (comments after a rule are ignored only from 6.14); put the comment on its own line", v)
		return &m.e, m.found
	}
	m.validate()
	return &m.e, m.found
}

// splitWord cuts a word at its first operator, as match_token's patterns
// ("uid=%s", "uid>%s", ...) do.
func splitWord(s string) (key string, op byte, val string) {
	i := strings.IndexAny(s, "=<>")
	if i < 0 {
		return s, 0, ""
	}
	return s[:i], s[i], s[i+1:]
}

func (m *emulator) word(t Token) {
	key, op, val := splitWord(t.Text)
	w, known := words[key]
	switch {
	case !known:
		if strings.HasPrefix(key, "#") {
			m.errorf(t.Column, CodeComment, "inline comment: Linux %s refuses the rule (comments after a rule are ignored only from 6.14, and only as a separate word)", m.v)
			return
		}
		m.errorf(t.Column, CodeUnknown, "unknown word %q%s", t.Text, suggest(key))
		return
	case !m.v.AtLeast(w.since):
		m.errorf(t.Column, CodeNewer, "%s is not in the grammar of Linux %s (it is in %s)", key, m.v, w.since)
		return
	case op == 0 && w.ops != "":
		m.errorf(t.Column, CodeValue, "%s needs a value: %s=...", key, key)
		return
	case op != 0 && w.ops == "":
		m.errorf(t.Column, CodeValue, "%s takes no value", key)
		return
	case op != 0 && !strings.ContainsRune(w.ops, rune(op)):
		m.errorf(t.Column, CodeValue, "%s takes only %q, not %q", key, w.ops, string(op))
		return
	case op != 0 && val == "":
		m.errorf(t.Column, CodeValue, "%s%c needs a value", key, op)
		return
	}
	e := &m.e
	valCol := t.Column + len(key) + 1
	switch w.kind {
	case kindAction:
		if e.action != "" {
			m.errorf(t.Column, CodeAction, "second action %q: a rule has exactly one action (it already has %q)", key, e.action)
			return
		}
		e.action, e.actionCol = key, t.Column
		return
	case kindLSM:
		m.lsm(t, key, val)
		return
	}
	switch key {
	case "permit_directio":
		e.set(fDirectio, t)
	case "func":
		if e.fn != "" {
			m.errorf(t.Column, CodeDuplicate, "func given twice (already func=%s)", e.fn)
			return
		}
		h, ok := funcs[val]
		if !ok {
			m.errorf(valCol, CodeValue, "unknown func %q%s", val, suggestFrom(val, FuncNames))
			return
		}
		if !m.v.AtLeast(h.since) {
			m.errorf(valCol, CodeNewer, "func=%s is not in the grammar of Linux %s (it is in %s)", val, m.v, h.since)
			return
		}
		if h.config != "" && !m.needConfig(valCol, h.config, "func="+val) {
			return
		}
		e.fn = h.canonical
		if h.canonical != val {
			e.fnAlias = val
		}
		e.set(fFunc, t)
	case "mask":
		if e.mask != "" {
			m.errorf(t.Column, CodeDuplicate, "mask given twice (already mask=%s)", e.mask)
			return
		}
		name := strings.TrimPrefix(val, "^")
		if !masks[name] {
			m.errorf(valCol, CodeValue, "unknown mask %q: want MAY_EXEC, MAY_WRITE, MAY_READ or MAY_APPEND, optionally after ^", val)
			return
		}
		e.mask = val
		if strings.HasPrefix(val, "^") {
			e.set(fInMask, t)
		} else {
			e.set(fMask, t)
		}
	case "fsmagic":
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
			m.errorf(valCol, CodeValue, "fsmagic=%s is not a hexadecimal number%s", val, hint)
			return
		}
		e.fsmagic = n
		e.set(fFsmagic, t)
	case "fsname":
		if e.flags&fFsname != 0 {
			m.warnf(t.Column, CodeIgnored, "fsname given twice: the kernel keeps only the last one (%s)", val)
		}
		e.fsname = val
		e.set(fFsname, t)
	case "fs_subtype":
		if e.flags&fFsSubtype != 0 {
			m.errorf(t.Column, CodeDuplicate, "fs_subtype given twice")
			return
		}
		e.fsSubtype = val
		e.set(fFsSubtype, t)
	case "fsuuid":
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
	case "uid", "euid", "gid", "egid", "fowner", "fgroup":
		m.idCondition(t, key, op, val, valCol)
	case "keyrings", "label":
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
				m.errorf(valCol, CodeValue, "%s=%s has an empty item", key, val)
				return
			}
		}
		*list = items
		e.set(f, t)
	case "digest_type":
		if !m.v.AtLeast(sinceSigv3Any) && e.flags&fDigsig != 0 {
			m.errorf(t.Column, CodeOrder, "digest_type= after appraise_type=: Linux %s refuses it; put digest_type=verity before appraise_type=sigv3", m.v)
			return
		}
		if val != "verity" {
			m.errorf(valCol, CodeValue, "digest_type=%s: the only digest type is verity", val)
			return
		}
		e.set(fVerity, t)
	case "appraise_type":
		m.appraiseType(t, val, valCol)
	case "appraise_flag":
		if m.v.AtLeast(sinceBlacklistAlways) {
			m.warnf(t.Column, CodeIgnored, "appraise_flag= is accepted and ignored since 6.6: signature appraisal always consults the blacklist")
			return
		}
		if !m.needConfig(t.Column, "IMA_APPRAISE_MODSIG", "appraise_flag=") {
			return
		}
		if !strings.Contains(val, "blacklist") {
			m.errorf(valCol, CodeValue, "appraise_flag=%s: the only flag is check_blacklist", val)
			return
		}
		e.set(fBlacklist, t)
	case "appraise_algos":
		m.appraiseAlgos(t, val, valCol)
	case "pcr":
		n, ok := kstrtoint(val)
		if !ok || n < 0 || n >= 64 {
			m.errorf(valCol, CodeValue, "pcr=%s: want a decimal PCR index from 0 to 63", val)
			return
		}
		e.pcr = n
		e.set(fPCR, t)
	case "template":
		if e.action != "measure" {
			if e.action == "" {
				m.errorf(t.Column, CodeOrder, "template= before the action: the kernel takes template= only after measure")
			} else {
				m.errorf(t.Column, CodeCombination, "template= is allowed only with measure, not %s", e.action)
			}
			return
		}
		if !templateKnown(val) {
			m.errorf(valCol, CodeValue, "unknown template %q: want one of %s, or the format of one", val, strings.Join(templateNames(), ", "))
			return
		}
		if e.template != "" {
			m.errorf(t.Column, CodeDuplicate, "template given twice")
			return
		}
		e.template = val
	}
}

// needConfig handles a word the kernel knows only with a build option. It
// reports whether checking goes on.
func (m *emulator) needConfig(col int, symbol, what string) bool {
	switch m.cfg.State(symbol) {
	case "n":
		m.errorf(col, CodeConfig, "%s needs CONFIG_%s, which this kernel does not have", what, symbol)
		return false
	case "":
		m.warnf(col, CodeConfig, "%s needs CONFIG_%s; without --kernel-config it is assumed on", what, symbol)
	}
	return true
}

func (m *emulator) idCondition(t Token, key string, op byte, val string, valCol int) {
	e := &m.e
	slot := map[string]*idCond{"uid": &e.uid, "euid": &e.uid, "gid": &e.gid, "egid": &e.gid, "fowner": &e.fowner, "fgroup": &e.fgroup}[key]
	if slot.set {
		m.errorf(t.Column, CodeDuplicate, "%s%c conflicts with %s%c%d: the kernel keeps one %s condition per rule", key, op, slot.key, slot.op, slot.val, strings.TrimPrefix(slot.key, "e"))
		return
	}
	n, ok := kstrtoul(val, 10)
	// make_kuid/make_kgid refuse (uid_t)-1, and the value must fit in 32 bits.
	if !ok || n >= math.MaxUint32 {
		m.errorf(valCol, CodeValue, "%s%c%s: want a decimal id from 0 to 4294967294", key, op, val)
		return
	}
	*slot = idCond{set: true, key: key, op: op, val: n}
	e.set(map[string]flag{"uid": fUID, "euid": fEUID, "gid": fGID, "egid": fEGID, "fowner": fFowner, "fgroup": fFgroup}[key], t)
}

func (m *emulator) appraiseType(t Token, val string, valCol int) {
	e := &m.e
	blacklist := flag(0)
	if m.v.AtLeast(sinceBlacklistAlways) {
		blacklist = fBlacklist
	}
	switch val {
	case "imasig":
		if e.flags&fVerity != 0 {
			m.errorf(t.Column, CodeCombination, "appraise_type=imasig cannot follow digest_type=verity; fs-verity signatures are appraise_type=sigv3")
			return
		}
		e.set(fDigsig|blacklist, t)
	case "sigv3":
		if !m.v.AtLeast(sinceSigv3Any) {
			if e.flags&fVerity == 0 {
				for _, w := range m.words {
					if w.Text == "digest_type=verity" && w.Column > t.Column {
						m.errorf(t.Column, CodeOrder, "appraise_type=sigv3 before digest_type=verity: Linux %s refuses it; put digest_type=verity first", m.v)
						return
					}
				}
				m.errorf(t.Column, CodeCombination, "appraise_type=sigv3 needs digest_type=verity before it on Linux %s (sigv3 for regular files is in 7.2)", m.v)
				return
			}
			e.set(fDigsig|blacklist, t)
			return
		}
		e.set(fSigv3|fDigsig|fBlacklist, t)
	case "imasig|modsig":
		if !m.needConfig(valCol, "IMA_APPRAISE_MODSIG", "appraise_type=imasig|modsig") {
			return
		}
		if e.flags&(fVerity|fSigv3) != 0 {
			m.errorf(t.Column, CodeCombination, "appraise_type=imasig|modsig cannot be combined with digest_type=verity or sigv3")
			return
		}
		e.set(fDigsig|fModsig|blacklist, t)
	default:
		m.errorf(valCol, CodeValue, "appraise_type=%s: want imasig, imasig|modsig or sigv3", val)
	}
}

func (m *emulator) appraiseAlgos(t Token, val string, valCol int) {
	e := &m.e
	if e.algos != nil {
		m.errorf(t.Column, CodeDuplicate, "appraise_algos given twice")
		return
	}
	col := valCol
	var algos []string
	for _, name := range strings.Split(val, ",") {
		a, ok := hashAlgos[name]
		switch {
		case !ok || !m.v.AtLeast(a.since):
			m.errorf(col, CodeValue, "unknown hash algorithm %q in appraise_algos= for Linux %s%s", name, m.v, suggestFrom(name, HashNames))
			return
		case len(a.configs) == 0:
			m.errorf(col, CodeValue, "hash algorithm %q has a name in the kernel but no implementation (removed in 5.11)", name)
			return
		}
		switch m.hashState(name, a) {
		case "n":
			m.errorf(col, CodeConfig, "hash algorithm %q is not built into this kernel (CONFIG_%s is off)", name, a.configs[0])
			return
		case "m":
			m.warnf(col, CodeModule, "hash algorithm %q is a module in this kernel: the kernel refuses the rule unless the module is loaded first (load it from the initramfs)", name)
		case "":
			m.warnf(col, CodeConfig, "whether this kernel has hash algorithm %q depends on its configuration (give --kernel-config)", name)
		}
		algos = append(algos, name)
		col += len(name) + 1
	}
	e.algos = algos
	e.set(fAlgos, t)
}

// hashState is "y", "m", "n" or "" (unknown) for a hash implementation.
func (m *emulator) hashState(name string, a hashAlgo) string {
	if m.cfg == nil || m.cfg.Symbols == nil {
		if assumedHashes[name] {
			return "y"
		}
		return ""
	}
	best := "n"
	for _, s := range a.configs {
		switch m.cfg.State(s) {
		case "y":
			return "y"
		case "m":
			best = "m"
		}
	}
	return best
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

func templateKnown(s string) bool {
	for name, format := range templates {
		if s == name || s == format {
			return true
		}
	}
	return false
}

func templateNames() []string {
	var n []string
	for name := range templates {
		n = append(n, name)
	}
	sort.Strings(n)
	return n
}
