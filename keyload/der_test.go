package keyload

import (
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"
)

func TestDERNextLengths(t *testing.T) {
	body := strings.Repeat("x", 300)
	for _, tc := range []struct {
		name    string
		in      string
		content string // of the first element
		err     string
	}{
		{"short form", "\x04\x02ab+", "ab", ""},
		{"long form", "\x04\x82\x01\x2c" + body, body, ""},
		{"long form, not minimal (the kernel takes it)", "\x04\x81\x02ab", "ab", ""},
		{"zero length", "\x05\x00", "", ""},
		{"empty", "", "", "missing"},
		{"tag only", "\x30", "", "truncated header"},
		{"indefinite", "\x30\x80\x00\x00", "", "indefinite length"},
		{"length of 3 bytes", "\x04\x83\x00\x00\x01a", "", "length of 3 bytes"},
		{"reserved 0xff", "\x04\xff", "", "length of 127 bytes"},
		{"length cut off", "\x04\x82\x01", "", "truncated length"},
		{"longer than the data", "\x04\x05abc", "", "length 5 exceeds the 3 bytes left"},
		{"high tag number", "\x1f\x22\x01a", "", "high tag numbers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			el, _, err := derNext([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(el.content) != tc.content {
				t.Fatalf("content %q, error %v; want %q", el.content, err, tc.content)
			}
		})
	}
}

func TestDEROIDString(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"\x55\x04\x03", "2.5.4.3", ""},
		{"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", "1.2.840.113549.1.9.1", ""},
		{"\x00", "0.0", ""},
		{"\x27", "0.39", ""},
		{"\x28", "1.0", ""},
		{"\x88\x37\x87\xff\xff\xff\x7f", "2.999.2147483647", ""},
		{"", "", "empty"},
		{"\x55\x80\x04", "", "not minimally encoded"},
		{"\x55\x84", "", "truncated"},
		{"\x55\x88\x80\x80\x80\x00", "", "too large"},
	} {
		got, err := derOIDString([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("% x: %q, %v; want error %q", tc.in, got, err, tc.err)
			}
		} else if got != tc.want || err != nil {
			t.Errorf("% x: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestDERTime(t *testing.T) {
	for _, tc := range []struct {
		tag  byte
		in   string
		want time.Time // zero: an error
	}{
		{derUTCTime, "491231235959Z", time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)},
		{derUTCTime, "500101000000Z", time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)},
		{derUTCTime, "000229120000Z", time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC)},
		{derGeneralizedTime, "99991231235959Z", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{derGeneralizedTime, "20500101000000Z", time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)},
		{derUTCTime, "010229120000Z", time.Time{}},             // not a leap year
		{derUTCTime, "250431120000Z", time.Time{}},             // 31 April
		{derUTCTime, "251301120000Z", time.Time{}},             // month 13
		{derUTCTime, "250101240000Z", time.Time{}},             // hour 24
		{derUTCTime, "250101235960Z", time.Time{}},             // second 60
		{derUTCTime, "2501012359Z", time.Time{}},               // no seconds
		{derUTCTime, "250101235959+0100", time.Time{}},         // offset
		{derUTCTime, "250101235959z", time.Time{}},             // not Z
		{derUTCTime, "2501-1235959Z", time.Time{}},             // not a digit
		{derUTCTime, "x50101235959Z", time.Time{}},             // year not digits
		{derGeneralizedTime, "20250101235959.5Z", time.Time{}}, // fraction
		{derGeneralizedTime, "250101235959Z", time.Time{}},     // UTCTime form
		{derInteger, "250101235959Z", time.Time{}},
	} {
		got, err := derTime(derElement{tag: tc.tag, content: []byte(tc.in)})
		if tc.want.IsZero() {
			if err == nil {
				t.Errorf("%s %q: %v, want an error", derTagName(tc.tag), tc.in, got)
			}
		} else if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%s %q: %v, %v; want %v", derTagName(tc.tag), tc.in, got, err, tc.want)
		}
	}
}

func TestDERStringRefusesWhatX509Refuses(t *testing.T) {
	for _, tc := range []struct {
		tag byte
		in  string
	}{
		{derUTF8String, "\xff"},
		{derPrintableString, "a@b"},
		{derIA5String, "caf\xe9"},
		{derNumericString, "12a"},
		{derBMPString, "\x00a\x00"}, // odd length
		{derBMPString, "\xd8\x00"},  // surrogate
		{derBMPString, "\xff\xfe"},  // noncharacter
		{0x1c, "\x00\x00\x00a"},     // UniversalString
		{derSequence, ""},
	} {
		if s, err := derString(tc.tag, []byte(tc.in)); err == nil {
			t.Errorf("%s %q: %q, want an error", derTagName(tc.tag), tc.in, s)
		}
	}
}

// TestNameEscapeMatchesPkix checks the escaping alone against pkix, for
// values that need it anywhere.
func TestNameEscapeMatchesPkix(t *testing.T) {
	for _, v := range []string{"", " ", "  ", "#", "##", " # ", "a,b+c", `"q"`, `\`, "<>;", "ü ", " ü", "#ü", "x#y", "tab\tand\nnewline"} {
		want := pkix.Name{Organization: []string{v}}.String()
		if got := "O=" + nameEscape(v); got != want {
			t.Errorf("%q: %q, want %q", v, got, want)
		}
	}
}
