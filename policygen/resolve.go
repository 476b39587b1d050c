package policygen

import "sync"

// grammar is the policy language of one release: the dated tables of
// grammar.go resolved for it. Resolving is the one place that compares
// releases; the parser and the generator only look things up here.
type grammar struct {
	traits  trait
	words   map[string]bool // the policy_tokens the release has
	funcs   map[string]bool // the func= names it has
	hashes  map[string]bool // the hash_algo_name entries it has
	allowed map[string]flag // ima_validate_rule's flags per canonical hook
}

func (g *grammar) has(t trait) bool { return g.traits&t != 0 }

// grammars caches grammarOf by Major.Minor (the grammar ignores patches).
var grammars sync.Map

// grammarOf resolves the tables for release v.
func grammarOf(v KernelVersion) *grammar {
	key := KernelVersion{Major: v.Major, Minor: v.Minor}
	if g, ok := grammars.Load(key); ok {
		return g.(*grammar)
	}
	g := &grammar{words: map[string]bool{}, funcs: map[string]bool{}, hashes: map[string]bool{}, allowed: map[string]flag{}}
	for t, since := range traitSince {
		if v.AtLeast(since) {
			g.traits |= t
		}
	}
	for name, w := range words {
		if v.AtLeast(w.since) {
			g.words[name] = true
		}
	}
	for name, h := range funcs {
		if v.AtLeast(h.since) {
			g.funcs[name] = true
		}
	}
	for name, a := range hashAlgos {
		if v.AtLeast(a.since) {
			g.hashes[name] = true
		}
	}
	for _, hf := range hookFlags {
		if v.AtLeast(hf.since) {
			for _, h := range hf.hooks {
				g.allowed[h] |= hf.flags
			}
		}
	}
	actual, _ := grammars.LoadOrStore(key, g)
	return actual.(*grammar)
}
