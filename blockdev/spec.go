package blockdev

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kind says how a Spec names its device.
type Kind int

// The forms of root= that ParseSpec understands.
const (
	ByPath      Kind = iota // /dev/NAME
	ByUUID                  // UUID=
	ByLabel                 // LABEL=
	ByPartUUID              // PARTUUID=[/PARTNROFF=n]
	ByPartLabel             // PARTLABEL=
	ByDevNum                // MAJOR:MINOR or the kernel's hex number (fe01)
)

// Spec is a parsed root= value.
type Spec struct {
	Raw          string
	Kind         Kind
	Value        string // path, UUID, label, ... as given
	PartNrOffset int    // PARTUUID=.../PARTNROFF=n
	Major, Minor uint32 // ByDevNum
}

// ParseSpec reads a root= value the way the kernel's early_lookup_bdev does
// (init/do_mounts.c), plus UUID= and LABEL= which the kernel leaves to an
// initramfs, and udev's /dev/disk/by-{uuid,label,partuuid,partlabel}/ names.
// Labels may carry udev's \xHH escapes (LABEL=my\x20root).
func ParseSpec(s string) (Spec, error) {
	sp := Spec{Raw: s}
	cut := func(prefix string) (string, bool) {
		if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
			return s[len(prefix):], true
		}
		return "", false
	}
	bad := func(why string) (Spec, error) {
		return Spec{}, fmt.Errorf("root device %q: %s", s, why)
	}
	if v, ok := cut("UUID="); ok {
		sp.Kind, sp.Value = ByUUID, strings.TrimSpace(v)
	} else if v, ok := cut("LABEL="); ok {
		sp.Kind, sp.Value = ByLabel, v
	} else if v, ok := cut("PARTUUID="); ok {
		sp.Kind = ByPartUUID
		if i := strings.IndexByte(v, '/'); i >= 0 {
			off, found := strings.CutPrefix(v[i+1:], "PARTNROFF=")
			n, err := strconv.Atoi(off)
			if !found || err != nil {
				return bad("expected PARTUUID=<uuid>/PARTNROFF=<number>")
			}
			sp.PartNrOffset, v = n, v[:i]
		}
		sp.Value = v
	} else if v, ok := cut("PARTLABEL="); ok {
		sp.Kind, sp.Value = ByPartLabel, v
	} else if k, v, ok := udevLink(s); ok {
		sp.Kind, sp.Value = k, v
	} else if strings.HasPrefix(s, "/dev/") {
		sp.Kind, sp.Value = ByPath, s
		if len(s) == len("/dev/") {
			return bad("no device name after /dev/")
		}
		if slices.Contains(strings.Split(s, "/"), "..") {
			return bad("a device path may not climb out of /dev with ..")
		}
	} else {
		return parseDevNum(sp)
	}
	if sp.Value == "" {
		return bad("empty value")
	}
	if sp.Kind == ByLabel || sp.Kind == ByPartLabel {
		sp.Value = unescapeHex(sp.Value)
	}
	return sp, nil
}

// udevLink reads the /dev/disk/by-* names that udev makes and that command
// lines written on an installed system often carry; with no udev in the
// initramfs those links do not exist, so they become the spec they stand for.
func udevLink(s string) (Kind, string, bool) {
	for _, l := range []struct {
		dir  string
		kind Kind
	}{
		{"/dev/disk/by-uuid/", ByUUID},
		{"/dev/disk/by-label/", ByLabel},
		{"/dev/disk/by-partuuid/", ByPartUUID},
		{"/dev/disk/by-partlabel/", ByPartLabel},
	} {
		if v, ok := strings.CutPrefix(s, l.dir); ok {
			return l.kind, v, true
		}
	}
	return 0, "", false
}

// unescapeHex turns udev's \xHH escapes (a space is \x20 in by-label
// names) back into bytes; anything else stays as written.
func unescapeHex(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseDevNum reads "MAJOR:MINOR" (decimal) or a bare hexadecimal number in
// the kernel's new_encode_dev layout (minor low 8 bits, major 12 bits, then
// the minor's upper bits).
func parseDevNum(sp Spec) (Spec, error) {
	s := sp.Raw
	sp.Kind = ByDevNum
	if maj, min, ok := strings.Cut(s, ":"); ok {
		a, err1 := strconv.ParseUint(maj, 10, 32)
		b, err2 := strconv.ParseUint(min, 10, 32)
		if err1 != nil || err2 != nil {
			return Spec{}, fmt.Errorf("root device %q: expected MAJOR:MINOR in decimal", s)
		}
		sp.Major, sp.Minor, sp.Value = uint32(a), uint32(b), s
		return sp, nil
	}
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil || s == "" {
		return Spec{}, fmt.Errorf("root device %q: not /dev/NAME, UUID=, LABEL=, PARTUUID=, PARTLABEL=, MAJOR:MINOR or a hex device number", s)
	}
	sp.Major = uint32((n & 0xfff00) >> 8)
	sp.Minor = uint32((n & 0xff) | ((n >> 12) & 0xfff00))
	sp.Value = s
	return sp, nil
}

// matches says whether a probed device fits the spec (not ByPath/ByDevNum,
// which Find resolves by name). UUIDs compare without regard to case, as the
// kernel compares PARTUUID and as vfat volume ids are printed upper case.
func (s Spec) matches(info Info) bool {
	switch s.Kind {
	case ByUUID:
		return info.UUID != "" && strings.EqualFold(info.UUID, s.Value)
	case ByLabel:
		return info.Label != "" && info.Label == s.Value
	case ByPartUUID:
		return info.PartUUID != "" && strings.EqualFold(info.PartUUID, s.Value)
	case ByPartLabel:
		return info.PartLabel != "" && info.PartLabel == s.Value
	}
	return false
}
