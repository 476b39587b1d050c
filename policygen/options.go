package policygen

import (
	"sort"
	"strings"
)

// The cases of ima_parse_rule for the options: what a matching rule does.

func (m *emulator) permitDirectio(a wordArg) { m.e.set(fDirectio, a.t) }

func (m *emulator) digestType(a wordArg) {
	e, t, val := &m.e, a.t, a.val
	if !m.g.has(traitSigv3Any) && e.flags&fDigsig != 0 {
		m.errorf(t.Column, CodeOrder, "digest_type= after appraise_type=: Linux %s refuses it; put digest_type=verity before appraise_type=sigv3", m.v)
		return
	}
	if val != "verity" {
		m.errorf(a.valCol, CodeValue, "digest_type=%s: the only digest type is verity", val)
		return
	}
	e.set(fVerity, t)
}

func (m *emulator) appraiseType(a wordArg) {
	e, t, val := &m.e, a.t, a.val
	blacklist := flag(0)
	if m.g.has(traitBlacklistAlways) {
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
		if !m.g.has(traitSigv3Any) {
			if e.flags&fVerity == 0 {
				for _, w := range m.words {
					if w.Text == "digest_type=verity" && w.Column > t.Column {
						m.errorf(t.Column, CodeOrder, "appraise_type=sigv3 before digest_type=verity: Linux %s refuses it; put digest_type=verity first", m.v)
						return
					}
				}
				m.errorf(t.Column, CodeCombination, "appraise_type=sigv3 needs digest_type=verity before it on Linux %s (sigv3 for regular files is in %s)", m.v, traitSince[traitSigv3Any])
				return
			}
			e.set(fDigsig|blacklist, t)
			return
		}
		e.set(fSigv3|fDigsig|blacklist, t)
	case "imasig|modsig":
		if !m.needConfig(a.valCol, "IMA_APPRAISE_MODSIG", "appraise_type=imasig|modsig") {
			return
		}
		if e.flags&(fVerity|fSigv3) != 0 {
			m.errorf(t.Column, CodeCombination, "appraise_type=imasig|modsig cannot be combined with digest_type=verity or sigv3")
			return
		}
		e.set(fDigsig|fModsig|blacklist, t)
	default:
		m.errorf(a.valCol, CodeValue, "appraise_type=%s: want imasig, imasig|modsig or sigv3", val)
	}
}

func (m *emulator) appraiseFlag(a wordArg) {
	e, t, val := &m.e, a.t, a.val
	if m.g.has(traitBlacklistAlways) {
		m.warnf(t.Column, CodeIgnored, "appraise_flag= is accepted and ignored since %s: signature appraisal always consults the blacklist", traitSince[traitBlacklistAlways])
		return
	}
	if !m.needConfig(t.Column, "IMA_APPRAISE_MODSIG", "appraise_flag=") {
		return
	}
	if !strings.Contains(val, "blacklist") {
		m.errorf(a.valCol, CodeValue, "appraise_flag=%s: the only flag is check_blacklist", val)
		return
	}
	e.set(fBlacklist, t)
}

func (m *emulator) appraiseAlgos(w wordArg) {
	e, t := &m.e, w.t
	if e.algos != nil {
		m.errorf(t.Column, CodeDuplicate, "appraise_algos given twice")
		return
	}
	col := w.valCol
	var algos []string
	for _, name := range strings.Split(w.val, ",") {
		a, ok := hashAlgos[name]
		switch {
		case !ok || !m.g.hashes[name]:
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

func (m *emulator) pcrOption(a wordArg) {
	n, ok := kstrtoint(a.val)
	if !ok || n < 0 || n >= 64 {
		m.errorf(a.valCol, CodeValue, "pcr=%s: want a decimal PCR index from 0 to 63", a.val)
		return
	}
	m.e.pcr = n
	m.e.set(fPCR, a.t)
}

func (m *emulator) templateOption(a wordArg) {
	e, t, val := &m.e, a.t, a.val
	if e.action != "measure" {
		if e.action == "" {
			m.errorf(t.Column, CodeOrder, "template= before the action: the kernel takes template= only after measure")
		} else {
			m.errorf(t.Column, CodeCombination, "template= is allowed only with measure, not %s", e.action)
		}
		return
	}
	if !templateKnown(val) {
		m.errorf(a.valCol, CodeValue, "unknown template %q: want one of %s, or the format of one", val, strings.Join(templateNames(), ", "))
		return
	}
	if e.template != "" {
		m.errorf(t.Column, CodeDuplicate, "template given twice")
		return
	}
	e.template = val
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
