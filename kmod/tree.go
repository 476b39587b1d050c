package kmod

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Where kernel packages put their module trees: Debian 12 uses lib/modules,
// Debian 13 (merged /usr) usr/lib/modules.
var moduleBases = []string{"lib/modules", "usr/lib/modules"}

// Versions lists the kernel versions that have a module tree under root (an
// extracted kernel package, or "/"), sorted.
func Versions(root string) ([]string, error) {
	seen := map[string]bool{}
	for _, b := range moduleBases {
		ents, err := os.ReadDir(filepath.Join(root, b))
		if err != nil {
			continue
		}
		for _, e := range ents {
			// A directory, or a symlink to one (merged /usr trees link lib -> usr/lib).
			if fi, err := os.Stat(filepath.Join(root, b, e.Name())); err == nil && fi.IsDir() {
				seen[e.Name()] = true
			}
		}
	}
	var vs []string
	for v := range seen {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	if len(vs) == 0 {
		return nil, fmt.Errorf("find kernel modules under %s: no %s/KVER or %s/KVER directory", root, moduleBases[0], moduleBases[1])
	}
	return vs, nil
}

// FindDir returns the module directory of kernel version kver under root.
// With kver empty it picks the only version present and fails when there
// are several, naming them.
func FindDir(root, kver string) (dir, version string, err error) {
	if kver == "" {
		vs, err := Versions(root)
		if err != nil {
			return "", "", err
		}
		if len(vs) > 1 {
			return "", "", fmt.Errorf("find kernel modules under %s: several kernel versions %v; choose one", root, vs)
		}
		kver = vs[0]
	}
	for _, b := range moduleBases {
		d := filepath.Join(root, b, kver)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d, kver, nil
		}
	}
	vs, _ := Versions(root)
	return "", "", fmt.Errorf("find kernel modules under %s: no module tree for kernel %s (found %v)", root, kver, vs)
}
