package kmod

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// DepFile is the name of the dependency file in a module directory.
const DepFile = "modules.dep"

// BuiltinFile lists the modules compiled into the kernel, one path a line.
const BuiltinFile = "modules.builtin"

// depLine is one line of modules.dep: a module and every module it needs,
// in the order modprobe reads them (last one loaded first).
type depLine struct {
	path string
	deps []string
}

// parseDep reads modules.dep ("path: dep dep ...", one module a line).
func parseDep(r io.Reader, name string) ([]depLine, error) {
	var lines []depLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		p, rest, ok := strings.Cut(text, ":")
		if !ok || strings.TrimSpace(p) == "" {
			return nil, fmt.Errorf("read %s line %d: want \"module: dependencies\", got %q", name, n, text)
		}
		lines = append(lines, depLine{path: strings.TrimSpace(p), deps: strings.Fields(rest)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return lines, nil
}

// WriteDep writes modules.dep for mods, a list as Resolve returns it
// (dependencies before the modules that need them). As depmod does, each
// line lists every module needed, directly or not, in reverse load order.
// Built-in modules get no line.
func WriteDep(w io.Writer, mods []Module) error {
	pos := map[string]int{}
	byName := map[string]Module{}
	for i, m := range mods {
		pos[m.Name] = i
		byName[m.Name] = m
	}
	bw := bufio.NewWriter(w)
	for _, m := range mods {
		if m.Builtin {
			continue
		}
		closure := map[string]bool{}
		var walk func(string) error
		walk = func(n string) error {
			d, ok := byName[n]
			if !ok {
				return fmt.Errorf("write %s: module %s needs %s, which is not in the list", DepFile, m.Name, n)
			}
			for _, dn := range d.Deps {
				if !closure[dn] {
					closure[dn] = true
					if err := walk(dn); err != nil {
						return err
					}
				}
			}
			return nil
		}
		if err := walk(m.Name); err != nil {
			return err
		}
		fmt.Fprintf(bw, "%s:", m.Path)
		for i := len(mods) - 1; i >= 0; i-- {
			if d := mods[i]; closure[d.Name] && !d.Builtin {
				fmt.Fprintf(bw, " %s", d.Path)
			}
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}
