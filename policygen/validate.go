package policygen

import (
	"slices"
	"strings"
)

func (m *emulator) validate() {
	e := &m.e
	if e.action == "" {
		col := 1
		if len(m.words) > 0 {
			col = m.words[0].Column
		}
		m.errorf(col, CodeAction, "rule has no action: start it with one of %s", strings.Join(m.actionsFor(), ", "))
		return
	}
	if e.action != "measure" && e.flags&fPCR != 0 {
		m.errorf(e.firstWord(fPCR).Column, CodeCombination, "pcr= is allowed only with measure, not %s", e.action)
		return
	}
	if appraiseOnly := e.flags & (fDigsig | fModsig | fBlacklist | fAlgos); e.action != "appraise" && appraiseOnly != 0 {
		w := e.firstWord(appraiseOnly)
		m.errorf(w.Column, CodeCombination, "%s is allowed only with appraise, not %s", wordKey(w), e.action)
		return
	}
	fn := e.fn
	fnDesc := "a rule without func="
	if fn != "" {
		fnDesc = "func=" + fn
	}
	r := hookRules[fn]
	if len(r.actions) > 0 && !slices.Contains(r.actions, e.action) {
		m.errorf(e.actionCol, CodeCombination, "%s allows only %s, not %s", fnDesc, strings.Join(r.actions, " and "), e.action)
		return
	}
	if r.needs != 0 && e.flags&r.needs == 0 {
		m.errorf(e.firstWord(fFunc).Column, CodeCombination, "%s needs %s", fnDesc, r.needsWord)
		return
	}
	if extra := e.flags &^ m.g.allowed[fn]; extra != 0 {
		w := e.firstWord(extra)
		m.errorf(w.Column, CodeCombination, "%s is not allowed with %s%s", wordKey(w), fnDesc, r.hint)
		return
	}
	if r.noLSM && len(e.lsm) > 0 {
		m.errorf(e.firstWord(fFunc).Column, CodeCombination, "func=%s does not take LSM conditions", fn)
		return
	}
	if e.flags&fBlacklist != 0 {
		if !m.g.has(traitBlacklistAlways) && e.flags&fModsig == 0 {
			m.errorf(e.firstWord(fBlacklist).Column, CodeCombination, "appraise_flag=check_blacklist needs appraise_type=imasig|modsig on Linux %s", m.v)
			return
		}
	}
	if e.action == "appraise" && e.flags&fVerity != 0 && e.flags&fDigsig == 0 {
		m.errorf(e.firstWord(fVerity).Column, CodeCombination, "appraise with digest_type=verity needs appraise_type=sigv3 (fs-verity digests must be signed)")
		return
	}
}

func (m *emulator) actionsFor() []string {
	var a []string
	for _, name := range Actions {
		if m.g.words[name] {
			a = append(a, name)
		}
	}
	return a
}
