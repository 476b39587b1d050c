package policygen

import (
	"fmt"
	"sort"
	"strings"
)

// flag mirrors the kernel's rule entry flags (IMA_FUNC, IMA_MASK, ...):
// ima_validate_rule decides on them.
type flag uint32

const (
	fFunc flag = 1 << iota
	fMask
	fInMask
	fFsmagic
	fFsname
	fFsSubtype
	fFsuuid
	fUID
	fEUID
	fGID
	fEGID
	fFowner
	fFgroup
	fPCR
	fKeyrings
	fLabel
	fDigsig
	fModsig
	fBlacklist
	fAlgos
	fDirectio
	fVerity
	fSigv3
	flagCount = iota
)

// idCond is one uid/euid/gid/egid/fowner/fgroup condition.
type idCond struct {
	set bool
	key string // uid or euid (gid or egid) as written
	op  byte
	val uint64
}

// entry is what the kernel builds from one rule: the meaning of the rule.
type entry struct {
	action    string
	actionCol int
	fn        string // canonical hook name
	fnAlias   string // the alias used, if any
	flags     flag
	where     [flagCount]Token // the word that set each flag

	mask      string // as written, "^" included
	fsmagic   uint64
	fsname    string
	fsSubtype string
	fsuuid    string // lower case, the 36 characters the kernel reads
	uid, gid  idCond
	fowner    idCond
	fgroup    idCond
	pcr       int64
	template  string
	keyrings  []string
	labels    []string
	algos     []string
	lsm       map[string]string
}

// set sets the flags in fs, remembering for each the first word that set it.
func (e *entry) set(fs flag, t Token) {
	for i := 0; i < flagCount; i++ {
		if fs&(1<<i) != 0 && e.flags&(1<<i) == 0 {
			e.where[i] = t
		}
	}
	e.flags |= fs
}

// bitIndex is the index of a single flag in entry.where.
func bitIndex(f flag) int {
	for i := 0; i < flagCount; i++ {
		if f == 1<<i {
			return i
		}
	}
	panic(fmt.Sprintf("bitIndex(%#x): not a single flag", uint32(f)))
}

// firstWord returns the word that set the first flag of fs (in rule order).
func (e *entry) firstWord(fs flag) Token {
	best := Token{}
	for i := 0; i < flagCount; i++ {
		if fs&(1<<i) == 0 || e.flags&(1<<i) == 0 {
			continue
		}
		t := e.where[i]
		if best.Column == 0 || (t.Column != 0 && t.Column < best.Column) {
			best = t
		}
	}
	return best
}

// meaning is a canonical description of e: two rules with the same
// meaning make the kernel behave the same.
func (e *entry) meaning() string {
	var parts []string
	add := func(f string, a ...any) { parts = append(parts, fmt.Sprintf(f, a...)) }
	add("action=%s", e.action)
	if e.fn != "" {
		add("func=%s", e.fn)
	}
	if e.mask != "" {
		add("mask=%s", e.mask)
	}
	if e.flags&fFsmagic != 0 {
		add("fsmagic=%#x", e.fsmagic)
	}
	if e.flags&fFsname != 0 {
		add("fsname=%s", e.fsname)
	}
	if e.flags&fFsSubtype != 0 {
		add("fs_subtype=%s", e.fsSubtype)
	}
	if e.flags&fFsuuid != 0 {
		add("fsuuid=%s", e.fsuuid)
	}
	for _, c := range []idCond{e.uid, e.gid, e.fowner, e.fgroup} {
		if c.set {
			add("%s%c%d", c.key, c.op, c.val)
		}
	}
	if e.flags&fPCR != 0 {
		add("pcr=%d", e.pcr)
	}
	if e.template != "" {
		add("template=%s", e.template)
	}
	if len(e.keyrings) > 0 {
		add("keyrings=%s", strings.Join(e.keyrings, "|"))
	}
	if len(e.labels) > 0 {
		add("label=%s", strings.Join(e.labels, "|"))
	}
	if len(e.algos) > 0 {
		a := append([]string(nil), e.algos...)
		sort.Strings(a)
		add("algos=%s", strings.Join(a, ","))
	}
	var lsm []string
	for k, v := range e.lsm {
		lsm = append(lsm, k+"="+v)
	}
	sort.Strings(lsm)
	parts = append(parts, lsm...)
	add("flags=%#x", uint32(e.flags&^(fFunc|fMask|fInMask|fFsmagic|fFsname|fFsSubtype|fFsuuid|fUID|fEUID|fGID|fEGID|fFowner|fFgroup|fPCR|fKeyrings|fLabel)))
	return strings.Join(parts, " ")
}

// wordKey is the keyword of a word, with its value for appraise_type=,
// which sets flags that differ by value.
func wordKey(t Token) string {
	key, op, _ := splitWord(t.Text)
	if key == "appraise_type" || op == 0 {
		return t.Text
	}
	return key + string(op)
}
