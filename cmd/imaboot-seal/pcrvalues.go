package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// parsePCRValue reads "N=HEX", "N: 0xHEX" or "N HEX" into values.
func parsePCRValue(s string, values map[int][]byte) error {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "=: \t")
	if i < 0 {
		return fmt.Errorf("%q: want N=HEX", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s[:i]))
	if err != nil || n < 0 || n >= maxPCRs {
		return fmt.Errorf("%q: bad PCR number", s)
	}
	h := strings.TrimSpace(s[i+1:])
	h = strings.TrimSpace(strings.TrimLeft(h, "=: \t"))
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
	v, err := hex.DecodeString(h)
	if err != nil || len(v) != 32 {
		return fmt.Errorf("%q: PCR %d value must be 64 hex digits (sha256)", s, n)
	}
	if _, dup := values[n]; dup {
		return fmt.Errorf("%q: PCR %d given twice", s, n)
	}
	values[n] = v
	return nil
}

// readPCRValuesFile reads one value per line; blank lines, # comments and
// header lines such as tpm2_pcrread's "sha256:" are skipped.
func readPCRValuesFile(path string, values map[int][]byte) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--pcr-values: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		if s == "" || strings.HasSuffix(s, ":") {
			continue
		}
		if err := parsePCRValue(s, values); err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("--pcr-values %s: %w", path, err)
	}
	return nil
}
