package policygen

import (
	"math"
	"strings"
)

// kstrtoul parses like the kernel's kstrtoul: an optional '+', for base 16
// an optional "0x", at least one digit, nothing after, no overflow.
func kstrtoul(s string, base uint64) (uint64, bool) {
	s = strings.TrimPrefix(s, "+")
	return parseDigits(s, base)
}

func parseDigits(s string, base uint64) (uint64, bool) {
	if base == 16 && len(s) >= 2 && s[0] == '0' && (s[1]|0x20) == 'x' {
		s = s[2:]
	}
	if s == "" {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			d = uint64(c|0x20-'a') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if n > (math.MaxUint64-d)/base {
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}

// kstrtoint parses like the kernel's kstrtoint(s, 10): '-' or '+' then
// digits, within int32.
func kstrtoint(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	} else {
		s = strings.TrimPrefix(s, "+")
	}
	n, ok := parseDigits(s, 10)
	if !ok {
		return 0, false
	}
	if neg {
		if n > 1<<31 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt32 {
		return 0, false
	}
	return int64(n), true
}

const nullUUID = "00000000-0000-0000-0000-000000000000"

// uuidValid is the kernel's uuid_is_valid: it looks at the first 36
// characters only.
func uuidValid(s string) bool {
	if len(s) < 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !isHex(c) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}
