package initagent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProveEnforcementDecisions: what the kernel answered to the canary,
// with or without imaboot's rule in the policy, decides the step and the
// status file, in each mode.
func TestProveEnforcementDecisions(t *testing.T) {
	refused := probeResult{Errno: unix.EACCES, Path: "/run/imaboot/probe/imaboot-enforcement-canary"}
	passed := probeResult{Path: refused.Path}
	own := policyLoad{loaded: true, appraises: true, canary: true}
	signed := policyLoad{loaded: true, appraises: true}
	for _, tc := range []struct {
		name   string
		mode   Mode
		pl     policyLoad
		res    probeResult
		err    error
		want   string // ok, warn, fail, skip
		status string
		detail string
	}{
		{"refused under imaboot's rule", Enforce, own, refused, nil, "ok", EnforcementProven, "under imaboot's canary rule; _ima was looked up from the agent"},
		{"let through: not enforcing", Enforce, own, passed, nil, "fail", EnforcementOff, "IMA appraisal is not enforcing"},
		{"let through, permissive", Permissive, own, passed, nil, "warn", EnforcementOff, "IMA appraisal is not enforcing"},
		{"signed policy covers it", Enforce, signed, refused, nil, "ok", EnforcementProven, "under the signed policy"},
		{"signed policy does not cover it", Enforce, signed, passed, nil, "warn", EnforcementUnproven, "the signed policy does not appraise"},
		{"canary not placed", Enforce, own, probeResult{}, errors.New("mount tmpfs: EPERM"), "warn", EnforcementUnproven, "could not be placed: mount tmpfs: EPERM"},
		{"another errno", Enforce, own, probeResult{Errno: unix.ENOMEM}, nil, "warn", EnforcementUnproven, "gave ENOMEM"},
		{"no appraise rule", Enforce, policyLoad{loaded: true}, refused, nil, "skip", EnforcementNone, "no appraise rule"},
		{"no policy loaded", Permissive, policyLoad{}, refused, nil, "warn", EnforcementUnproven, "no IMA policy was loaded"},
	} {
		a, _, _ := testAgent(t, tc.mode)
		var probed []string
		a.probe = func(f probeFile) (probeResult, error) {
			probed = append(probed, f.name)
			return tc.res, tc.err
		}
		detail, err := a.proveEnforcement(&inputs{}, tc.pl)
		if got := stepOutcome(err); got != tc.want {
			t.Errorf("%s: %s (%q, %v), want %s", tc.name, got, detail, err, tc.want)
		}
		if a.Status.Enforcement != tc.status || !strings.Contains(a.Status.EnforcementDetail, tc.detail) {
			t.Errorf("%s: status %q %q, want %q containing %q", tc.name, a.Status.Enforcement, a.Status.EnforcementDetail, tc.status, tc.detail)
		}
		if tc.want != "skip" && tc.pl.loaded && (len(probed) != 1 || probed[0] != "imaboot-enforcement-canary") {
			t.Errorf("%s: probed %q", tc.name, probed)
		}
	}
}

// TestBreakGlassMarker: a break-glass boot measures its marker when the
// marker rule went in, and is always reported off, as a warning.
func TestBreakGlassMarker(t *testing.T) {
	for _, pl := range []policyLoad{{loaded: true, marker: true}, {}} {
		a, _, _ := testAgent(t, Permissive)
		a.Config.BreakGlass = true
		var probed []string
		a.probe = func(f probeFile) (probeResult, error) {
			probed = append(probed, f.name)
			return probeResult{Path: "/run/imaboot/probe/" + f.name}, nil
		}
		_, err := a.proveEnforcement(&inputs{}, pl)
		if stepOutcome(err) != "warn" || a.Status.Enforcement != EnforcementOff {
			t.Errorf("marker rule %v: %v, status %q", pl.marker, err, a.Status.Enforcement)
		}
		measured := strings.Contains(a.Status.EnforcementDetail, "marker measured: /run/imaboot/probe/imaboot-break-glass")
		if measured != pl.marker || (len(probed) == 1) != pl.marker {
			t.Errorf("marker rule %v: probed %q, detail %q", pl.marker, probed, a.Status.EnforcementDetail)
		}
	}
}

func stepOutcome(err error) string {
	var w warning
	var s skipped
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &w):
		return "warn"
	case errors.As(err, &s):
		return "skip"
	}
	return "fail"
}

// TestRunProbeOnThisKernel runs a real probe on the host (root: it mounts a
// tmpfs). The host enforces no IMA policy, so the kernel maps the line of
// text for execution. The file had the owner, mode and label the rules
// expect, and the tmpfs is gone.
func TestRunProbeOnThisKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "probe")
	var seen unix.Stat_t
	var label []byte
	f := probeFile{name: "canary", content: "imaboot test canary\n", xattrs: []probeXattr{{"security.ima", wrongSignature(xattrIMASignature, 0x01020304)}}}
	res, err := runProbe(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	if !res.passed() || res.Path != filepath.Join(dir, "canary") {
		t.Errorf("result %+v, want a mapping of %s/canary", res, dir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("probe directory left behind: %v", err)
	}
	// Again, looking at the file before it runs.
	f.name = "look"
	probeInspect = func(path string) {
		unix.Stat(path, &seen)
		label = make([]byte, 512)
		n, _ := unix.Getxattr(path, "security.ima", label)
		label = label[:max(n, 0)]
	}
	defer func() { probeInspect = nil }()
	if _, err := runProbe(dir, f); err != nil {
		t.Fatal(err)
	}
	if seen.Uid != probeOwner || seen.Gid != probeOwner || seen.Mode&0o777 != 0o755 {
		t.Errorf("probe file uid %d gid %d mode %#o", seen.Uid, seen.Gid, seen.Mode&0o777)
	}
	if len(label) != 265 || label[0] != 0x03 || label[1] != 2 || label[2] != hashAlgoSHA256 || label[3] != 1 || label[6] != 4 || label[7] != 1 || label[8] != 0 {
		t.Errorf("security.ima %x", label)
	}
}
