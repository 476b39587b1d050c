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

// jsonField is one member of an object: its key and its encoded value
// (which may span lines, already indented for its depth).
type jsonField struct {
	key string
	val []byte
}

// marshalIndent encodes s as json.MarshalIndent(s, "", "  ") would: the
// fields in struct order, omitempty ones only when set.
func (s *Status) marshalIndent() []byte {
	var f []jsonField
	str := func(key, v string, omitEmpty bool) {
		if v != "" || !omitEmpty {
			f = append(f, jsonField{key, jsonQuote(nil, v)})
		}
	}
	num := func(key string, v float64) {
		if v != 0 {
			f = append(f, jsonField{key, jsonNumber(nil, v)})
		}
	}
	f = append(f, jsonField{"version", strconv.AppendInt(nil, int64(s.Version), 10)})
	str("mode", string(s.Mode), false)
	if s.BreakGlass {
		f = append(f, jsonField{"break_glass", []byte("true")})
	}
	str("kernel", s.Kernel, true)
	str("appraise_mode", s.AppraiseMode, true)
	str("secure_boot", s.SecureBoot, true)
	str("keyrings", s.Keyrings, true)
	str("enforcement", s.Enforcement, true)
	str("enforcement_detail", s.EnforcementDetail, true)
	str("lockdown", s.Lockdown, true)
	if len(s.Warnings) > 0 {
		items := make([][]byte, len(s.Warnings))
		for i, w := range s.Warnings {
			items[i] = jsonQuote(nil, w)
		}
		f = append(f, jsonField{"warnings", jsonArray(1, items)})
	}
	f = append(f, jsonField{"steps", s.stepsJSON()})
	str("outcome", s.Outcome, false)
	num("root_mounted_ms", s.RootMountedMS)
	num("ready_ms", s.ReadyMS)
	num("inputs_ms", s.InputsMS)
	if s.Trust != nil {
		f = append(f, jsonField{"trust", s.Trust.json(1)})
	}
	return jsonObject(0, f)
}

func (s *Status) stepsJSON() []byte {
	if s.Steps == nil {
		return []byte("null")
	}
	items := make([][]byte, len(s.Steps))
	for i, st := range s.Steps {
		f := []jsonField{{"name", jsonQuote(nil, st.Name)}, {"result", jsonQuote(nil, st.Result)}}
		if st.Detail != "" {
			f = append(f, jsonField{"detail", jsonQuote(nil, st.Detail)})
		}
		f = append(f, jsonField{"start_ms", jsonNumber(nil, st.StartMS)}, jsonField{"duration_ms", jsonNumber(nil, st.DurationMS)})
		items[i] = jsonObject(2, f)
	}
	return jsonArray(1, items)
}

// jsonObject writes fields as an object whose closing brace sits at depth
// (its members one level deeper); an empty object is "{}".
func jsonObject(depth int, fields []jsonField) []byte {
	if len(fields) == 0 {
		return []byte("{}")
	}
	b := []byte("{\n")
	for i, fl := range fields {
		b = jsonIndent(b, depth+1)
		b = jsonQuote(b, fl.key)
		b = append(b, ": "...)
		b = append(b, fl.val...)
		if i < len(fields)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	b = jsonIndent(b, depth)
	return append(b, '}')
}

// jsonArray writes encoded items as an array whose closing bracket sits at
// depth; an empty array is "[]".
func jsonArray(depth int, items [][]byte) []byte {
	if len(items) == 0 {
		return []byte("[]")
	}
	b := []byte("[\n")
	for i, it := range items {
		b = jsonIndent(b, depth+1)
		b = append(b, it...)
		if i < len(items)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	b = jsonIndent(b, depth)
	return append(b, ']')
}

func jsonIndent(b []byte, depth int) []byte {
	for range depth {
		b = append(b, "  "...)
	}
	return b
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
