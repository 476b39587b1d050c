package kmod

import (
	"errors"
	"fmt"
	"strings"
)

// Resolve returns the modules named and everything they need, in an order
// they can be loaded in: each module after its dependencies, each once,
// the requested ones in the order asked where dependencies allow. Built-in
// modules are returned with Builtin set. A missing module is a
// *NotFoundError naming who needs it; a cycle is an error naming the loop.
func (x *Index) Resolve(names []string) ([]Module, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var order []Module
	var stack []string
	var visit func(name, neededBy string) error
	visit = func(name, neededBy string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			i := len(stack) - 1
			for i > 0 && stack[i] != name {
				i--
			}
			return fmt.Errorf("module dependency cycle in %s: %s -> %s", x.Dir, strings.Join(stack[i:], " -> "), name)
		}
		m, err := x.Lookup(name)
		if err != nil {
			var nf *NotFoundError
			if errors.As(err, &nf) {
				nf.NeededBy = neededBy
			}
			return err
		}
		state[name] = visiting
		stack = append(stack, name)
		for _, d := range m.Deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		order = append(order, m)
		return nil
	}
	for _, n := range names {
		if n = Normalize(n); n == "" {
			continue
		}
		if err := visit(n, ""); err != nil {
			return nil, err
		}
	}
	return order, nil
}
