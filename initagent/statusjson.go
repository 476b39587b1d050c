package initagent

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The status file is written by hand rather than with encoding/json: json
// (and the reflection it drives) would be linked into imaboot-init for
// this one small fixed shape. The output is byte for byte what
// json.MarshalIndent(s, "", "  ") gives; statusjson_test.go holds it to that.

// marshalIndent encodes s as json.MarshalIndent(s, "", "  ") would.
func (s *Status) marshalIndent() []byte {
	b := make([]byte, 0, 512+256*len(s.Steps))
	b = append(b, "{\n"...)
	b = jsonInt(b, 1, "version", s.Version, true)
	b = jsonString(b, 1, "mode", string(s.Mode), true)
	if s.Kernel != "" {
		b = jsonString(b, 1, "kernel", s.Kernel, true)
	}
	b = jsonKey(b, 1, "steps")
	switch {
	case s.Steps == nil:
		b = append(b, "null"...)
	case len(s.Steps) == 0:
		b = append(b, "[]"...)
	default:
		b = append(b, "[\n"...)
		for i, st := range s.Steps {
			b = jsonIndent(b, 2)
			b = append(b, "{\n"...)
			b = jsonString(b, 3, "name", st.Name, true)
			b = jsonString(b, 3, "result", st.Result, true)
			if st.Detail != "" {
				b = jsonString(b, 3, "detail", st.Detail, true)
			}
			b = jsonFloat(b, 3, "start_ms", st.StartMS, true)
			b = jsonFloat(b, 3, "duration_ms", st.DurationMS, false)
			b = jsonIndent(b, 2)
			b = append(b, '}')
			if i < len(s.Steps)-1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		b = jsonIndent(b, 1)
		b = append(b, ']')
	}
	b = append(b, ",\n"...)
	// outcome is the last field json always writes; the omitempty ones
	// after it decide where the commas go.
	tail := []struct {
		name string
		v    float64
	}{{"root_mounted_ms", s.RootMountedMS}, {"ready_ms", s.ReadyMS}, {"inputs_ms", s.InputsMS}}
	var present []int
	for i, f := range tail {
		if f.v != 0 {
			present = append(present, i)
		}
	}
	b = jsonString(b, 1, "outcome", s.Outcome, len(present) > 0)
	for n, i := range present {
		b = jsonFloat(b, 1, tail[i].name, tail[i].v, n < len(present)-1)
	}
	return append(b, '}')
}

func jsonIndent(b []byte, depth int) []byte {
	for range depth {
		b = append(b, "  "...)
	}
	return b
}

func jsonKey(b []byte, depth int, key string) []byte {
	b = jsonIndent(b, depth)
	b = jsonQuote(b, key)
	return append(b, ": "...)
}

func jsonEnd(b []byte, more bool) []byte {
	if more {
		b = append(b, ',')
	}
	return append(b, '\n')
}

func jsonString(b []byte, depth int, key, v string, more bool) []byte {
	return jsonEnd(jsonQuote(jsonKey(b, depth, key), v), more)
}

func jsonInt(b []byte, depth int, key string, v int, more bool) []byte {
	return jsonEnd(strconv.AppendInt(jsonKey(b, depth, key), int64(v), 10), more)
}

func jsonFloat(b []byte, depth int, key string, v float64, more bool) []byte {
	return jsonEnd(jsonNumber(jsonKey(b, depth, key), v), more)
}

// jsonNumber formats a float64 as encoding/json does: the shortest
// decimal, in exponent form only below 1e-6 or from 1e21 on, with the
// exponent's leading zero dropped (1e-07 becomes 1e-7). NaN and ±Inf have
// no JSON form; the durations here never hold them, so they are written as
// null rather than failing the report.
func jsonNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b) - start; n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

const jsonHex = "0123456789abcdef"

// jsonQuote quotes s as encoding/json does by default: the two-letter
// escapes for \", \\, \n, \r, \t, \u00XX for other control bytes and for
// <, > and & (HTML-safe), \u2028 and \u2029 escaped, invalid UTF-8 as
// \ufffd.
func jsonQuote(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
