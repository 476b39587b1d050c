package kmod

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ParseList reads a module list such as the initramfs's modules.load: one
// module a line, optionally followed by its parameters ("name a=1 b=2");
// blank lines and lines starting with '#' are skipped. It returns the names
// in order and the parameters by name.
func ParseList(data []byte, file string) (names []string, params map[string]string, err error) {
	params = map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		name = Normalize(name)
		if strings.ContainsAny(name, "/=\t") {
			return nil, nil, fmt.Errorf("read %s line %d: %q is not a module name", file, n, name)
		}
		names = append(names, name)
		if rest = strings.TrimSpace(rest); rest != "" {
			params[name] = rest
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", file, err)
	}
	return names, params, nil
}

// FormatList writes names (and their parameters, if any) in ParseList's format.
func FormatList(names []string, params map[string]string) []byte {
	var b bytes.Buffer
	for _, n := range names {
		n = Normalize(n)
		b.WriteString(n)
		if p := params[n]; p != "" {
			b.WriteString(" " + p)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
