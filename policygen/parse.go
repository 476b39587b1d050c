package policygen

import (
	"fmt"
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
	g     *grammar
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
	m := &emulator{v: v, g: grammarOf(v), cfg: cfg, words: tokens}
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
	if comment != nil && !m.g.has(traitInlineComment) {
		m.errorf(comment.Column, CodeComment, "inline comment: Linux %s refuses the rule (comments after a rule are ignored only from %s); put the comment on its own line", v, traitSince[traitInlineComment])
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

// wordArg is one word of a rule, cut at its operator.
type wordArg struct {
	t      Token
	key    string
	op     byte
	val    string
	valCol int // the column of val
}

// wordParsers are ima_parse_rule's cases for the conditions and options
// (conditions.go, options.go); actions and LSM conditions are handled by
// kind.
var wordParsers = map[string]func(*emulator, wordArg){
	"func":            (*emulator).funcCondition,
	"mask":            (*emulator).maskCondition,
	"fsmagic":         (*emulator).fsmagicCondition,
	"fsname":          (*emulator).fsnameCondition,
	"fs_subtype":      (*emulator).fsSubtypeCondition,
	"fsuuid":          (*emulator).fsuuidCondition,
	"uid":             (*emulator).idCondition,
	"euid":            (*emulator).idCondition,
	"gid":             (*emulator).idCondition,
	"egid":            (*emulator).idCondition,
	"fowner":          (*emulator).idCondition,
	"fgroup":          (*emulator).idCondition,
	"keyrings":        (*emulator).listCondition,
	"label":           (*emulator).listCondition,
	"permit_directio": (*emulator).permitDirectio,
	"digest_type":     (*emulator).digestType,
	"appraise_type":   (*emulator).appraiseType,
	"appraise_flag":   (*emulator).appraiseFlag,
	"appraise_algos":  (*emulator).appraiseAlgos,
	"pcr":             (*emulator).pcrOption,
	"template":        (*emulator).templateOption,
}

// word checks what match_token decides (the word, its operator, a value)
// and hands the word to its case.
func (m *emulator) word(t Token) {
	key, op, val := splitWord(t.Text)
	w, known := words[key]
	switch {
	case !known:
		if strings.HasPrefix(key, "#") {
			m.errorf(t.Column, CodeComment, "inline comment: Linux %s refuses the rule (comments after a rule are ignored only from %s, and only as a separate word)", m.v, traitSince[traitInlineComment])
			return
		}
		m.errorf(t.Column, CodeUnknown, "unknown word %q%s", t.Text, suggest(key))
		return
	case !m.g.words[key]:
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
	a := wordArg{t: t, key: key, op: op, val: val, valCol: t.Column + len(key) + 1}
	switch w.kind {
	case kindAction:
		m.action(a)
	case kindLSM:
		m.lsm(t, key, val)
	default:
		wordParsers[key](m, a)
	}
}

func (m *emulator) action(a wordArg) {
	e := &m.e
	if e.action != "" {
		m.errorf(a.t.Column, CodeAction, "second action %q: a rule has exactly one action (it already has %q)", a.key, e.action)
		return
	}
	e.action, e.actionCol = a.key, a.t.Column
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
