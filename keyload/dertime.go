package keyload

import (
	"fmt"
	"time"
)

// derTime reads a UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime
// (YYYYMMDDHHMMSSZ). Only these forms, as RFC 5280 and the kernel's
// x509_decode_time want: no fractions, no offsets, seconds present.
func derTime(el derElement) (time.Time, error) {
	v := el.content
	bad := func(want string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("%s %q: want %s", derTagName(el.tag), el.content, want)
	}
	var year int
	switch el.tag {
	case derUTCTime:
		if len(v) != 13 || derDigits(v[:2]) < 0 {
			return bad("YYMMDDHHMMSSZ")
		}
		year = 1900 + derDigits(v[:2])
		if year < 1950 { // RFC 5280: YY below 50 is 20YY
			year += 100
		}
		v = v[2:]
	case derGeneralizedTime:
		if len(v) != 15 || derDigits(v[:4]) < 0 {
			return bad("YYYYMMDDHHMMSSZ")
		}
		year = derDigits(v[:4])
		v = v[4:]
	default:
		return time.Time{}, fmt.Errorf("found %s, want UTCTime or GeneralizedTime", derTagName(el.tag))
	}
	month, day, hour, minute, sec := derDigits(v[0:2]), derDigits(v[2:4]), derDigits(v[4:6]), derDigits(v[6:8]), derDigits(v[8:10])
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	// time.Date normalises 31 April into 1 May: a round trip catches it,
	// and the -1 derDigits returns for a non-digit.
	if v[10] != 'Z' || t.Year() != year || int(t.Month()) != month || t.Day() != day ||
		t.Hour() != hour || t.Minute() != minute || t.Second() != sec {
		return bad("a valid date and time in UTC (Z)")
	}
	return t, nil
}

// derDigits reads decimal digits, or returns -1.
func derDigits(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
