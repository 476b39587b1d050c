package initagent

import (
	"context"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/efi"
	"github.com/imaboot/imaboot/policygen"
)

var (
	noEFI     = efi.SecureBoot{State: efi.NotEFI, Source: "no /sys/firmware/efi"}
	sbOn      = efi.SecureBoot{State: efi.Enabled, Source: "boot_params.secure_boot=3"}
	sbUnknown = efi.SecureBoot{State: efi.Unknown, Source: "efivarfs not mounted"}
)

func appraisalOf(t *testing.T, cmdline string, sb efi.SecureBoot) KernelAppraisal {
	t.Helper()
	cl, err := ParseCmdline(cmdline)
	if err != nil {
		t.Fatal(err)
	}
	return ReadKernelAppraisal(cl, sb)
}

// TestReadKernelAppraisal: the command line read as the kernel reads it.
func TestReadKernelAppraisal(t *testing.T) {
	for _, tc := range []struct {
		cmdline  string
		sb       efi.SecureBoot
		mode     string
		param    string
		evmFix   string
		enforces bool
	}{
		{"root=/dev/vda quiet", noEFI, AppraiseEnforce, "", "", true},
		{"ima_appraise=log", noEFI, AppraiseLog, "ima_appraise=log", "", false},
		{"ima_appraise=fix evm=fix", noEFI, AppraiseFix, "ima_appraise=fix", "evm=fix", false},
		{"ima_appraise=off", noEFI, AppraiseOff, "ima_appraise=off", "", false},
		// Prefixes, as strncmp: the kernel takes "logs" for log.
		{"ima_appraise=logs", noEFI, AppraiseLog, "ima_appraise=logs", "", false},
		{"ima_appraise=offline", noEFI, AppraiseOff, "ima_appraise=offline", "", false},
		// A value the kernel refuses leaves it enforcing.
		{"ima_appraise=LOG", noEFI, AppraiseEnforce, "", "", true},
		{"ima_appraise=", noEFI, AppraiseEnforce, "", "", true},
		{"ima_appraise", noEFI, AppraiseEnforce, "", "", true},
		{"ima_appraise=enforce", noEFI, AppraiseEnforce, "", "", true},
		// The last one wins; dashes are underscores; quotes go.
		{"ima_appraise=log ima_appraise=enforce", noEFI, AppraiseEnforce, "", "", true},
		{"ima_appraise=enforce ima-appraise=fix", noEFI, AppraiseFix, "ima-appraise=fix", "", false},
		{`ima_appraise="off"`, noEFI, AppraiseOff, "ima_appraise=off", "", false},
		// After "--" it is init's.
		{"root=/dev/vda -- ima_appraise=off evm=fix", noEFI, AppraiseEnforce, "", "", true},
		// evm=fix alone; any evm=fix… turns fix mode on, nothing turns it off.
		{"evm=fix", noEFI, AppraiseEnforce, "", "evm=fix", false},
		{"evm=fixed evm=other", noEFI, AppraiseEnforce, "", "evm=fixed", false},
		{"evm=complete", noEFI, AppraiseEnforce, "", "", true},
		// Secure Boot: the kernel ignores ima_appraise=, not evm=fix.
		{"ima_appraise=off", sbOn, AppraiseEnforce, "ima_appraise=off", "", true},
		{"ima_appraise=fix evm=fix", sbOn, AppraiseEnforce, "ima_appraise=fix", "evm=fix", false},
		{"ima_appraise=log", sbUnknown, AppraiseLog, "ima_appraise=log", "", false},
	} {
		k := appraisalOf(t, tc.cmdline, tc.sb)
		if k.Mode != tc.mode || k.Param != tc.param || k.EVMFix != tc.evmFix || k.Enforces() != tc.enforces {
			t.Errorf("%q (%s): %+v, enforces %v; want mode %s param %q evm %q enforces %v", tc.cmdline, tc.sb.State, k, k.Enforces(), tc.mode, tc.param, tc.evmFix, tc.enforces)
		}
		if (k.Problem() == "") != tc.enforces {
			t.Errorf("%q: problem %q", tc.cmdline, k.Problem())
		}
		if tc.param != "" && !tc.enforces && tc.mode != AppraiseEnforce && !strings.Contains(k.Problem(), tc.param+" on the kernel command line") {
			t.Errorf("%q: problem %q does not name %s", tc.cmdline, k.Problem(), tc.param)
		}
	}
	if s := appraisalOf(t, "ima_appraise=log", sbOn).Summary(); !strings.Contains(s, "ima_appraise=log ignored by the kernel") {
		t.Errorf("Secure Boot summary %q", s)
	}
}

// TestAppraiseModeStep: enforce stops naming the parameter, permissive
// warns, a break-glass boot permits it; the status records the mode.
func TestAppraiseModeStep(t *testing.T) {
	for _, tc := range []struct {
		mode       Mode
		breakGlass bool
		cmdline    string
		want       string // "ok", "warn" or "fail"
	}{
		{Enforce, false, "root=/dev/vda", "ok"},
		{Enforce, false, "root=/dev/vda ima_appraise=log", "fail"},
		{Enforce, false, "ima_appraise=fix evm=fix", "fail"},
		{Enforce, false, "evm=fix", "fail"},
		{Permissive, false, "ima_appraise=off", "warn"},
		{Permissive, true, "ima_appraise=fix evm=fix", "ok"},
	} {
		a, _, _ := testAgent(t, tc.mode)
		a.Config.BreakGlass = tc.breakGlass
		a.Cmdline, _ = ParseCmdline(tc.cmdline)
		detail, err := a.checkAppraiseMode(context.Background())
		var w warning
		got := "ok"
		switch {
		case err == nil:
		case asWarning(err, &w):
			got = "warn"
		default:
			got = "fail"
		}
		if got != tc.want {
			t.Errorf("%s break-glass=%v %q: %s (%q, %v), want %s", tc.mode, tc.breakGlass, tc.cmdline, got, detail, err, tc.want)
		}
		if tc.want == "fail" {
			for _, w := range []string{"the kernel would not enforce", "on the kernel command line", breakGlassParam} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q: error %q lacks %q", tc.cmdline, err, w)
				}
			}
		}
		if a.Status.AppraiseMode == "" || a.Status.SecureBoot == "" {
			t.Errorf("%q: status appraise mode %q, secure boot %q", tc.cmdline, a.Status.AppraiseMode, a.Status.SecureBoot)
		}
	}
}

func asWarning(err error, w *warning) bool {
	x, ok := err.(warning)
	*w = x
	return ok
}

// TestOwnRulesLoadOnBothKernels: the rules the agent writes before the
// policy's are accepted by policygen's grammar of 6.1 and 6.12.
func TestOwnRulesLoadOnBothKernels(t *testing.T) {
	for _, release := range []string{"6.1.0-57-cloud-amd64", "6.12.117+deb13-cloud-amd64"} {
		p, err := policygen.Prepare("own", []byte(canaryRule+"\n"+markerRule+"\n"), release, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Err(); err != nil {
			t.Errorf("%s: %v", release, err)
		}
		for _, w := range p.Warnings() {
			t.Errorf("%s: warning %s", release, w)
		}
	}
}

// TestApplyCmdlineBreakGlass: imaboot.break_glass makes the boot
// permissive and marks it; BREAK_GLASS=no refuses it and
// imaboot.mode=permissive; CMDLINE_OVERRIDE=no refuses both.
func TestApplyCmdlineBreakGlass(t *testing.T) {
	for _, tc := range []struct {
		conf, cmdline string
		breakGlass    bool
		mode          Mode
		note          string
	}{
		{"", "imaboot.break_glass", true, Permissive, ""},
		{"", "imaboot.break_glass=yes", true, Permissive, ""},
		{"", "imaboot.break_glass=no", false, Enforce, ""},
		{"BREAK_GLASS=no\n", "imaboot.break_glass=yes", false, Enforce, "BREAK_GLASS=no"},
		{"BREAK_GLASS=no\n", "imaboot.mode=permissive", false, Enforce, "cannot weaken"},
		{"BREAK_GLASS=no\n", "imaboot.mode=enforce", false, Enforce, ""},
		{"CMDLINE_OVERRIDE=no\n", "imaboot.break_glass=yes", false, Enforce, "CMDLINE_OVERRIDE=no"},
		{"MODE=permissive\n", "imaboot.break_glass=1", true, Permissive, ""},
	} {
		c := DefaultConfig()
		if err := ParseConfig(&c, "conf", []byte(tc.conf)); err != nil {
			t.Fatal(err)
		}
		cl, _ := ParseCmdline(tc.cmdline)
		notes, err := c.ApplyCmdline(cl)
		if err != nil {
			t.Fatalf("%q: %v", tc.cmdline, err)
		}
		var said string
		for _, n := range notes {
			said += n.String()
		}
		if c.BreakGlass != tc.breakGlass || c.Mode != tc.mode || (tc.note == "") != (said == "") || !strings.Contains(said, tc.note) {
			t.Errorf("%q %q: break-glass %v mode %s notes %q; want %v %s %q", tc.conf, tc.cmdline, c.BreakGlass, c.Mode, said, tc.breakGlass, tc.mode, tc.note)
		}
	}
	cl, _ := ParseCmdline("imaboot.break_glass=perhaps")
	c := DefaultConfig()
	if _, err := c.ApplyCmdline(cl); err == nil {
		t.Error("imaboot.break_glass=perhaps accepted")
	}
}

// TestEffectiveLockdownAndKeyrings: the defaults by mode, and the keys.
func TestEffectiveLockdownAndKeyrings(t *testing.T) {
	c := DefaultConfig()
	if c.EffectiveLockdown() != "integrity" || !c.SealKeyrings || !c.BreakGlassAllowed {
		t.Errorf("defaults: lockdown %s, seal %v, break-glass allowed %v", c.EffectiveLockdown(), c.SealKeyrings, c.BreakGlassAllowed)
	}
	c.Mode = Permissive
	if c.EffectiveLockdown() != "none" {
		t.Errorf("permissive lockdown %s", c.EffectiveLockdown())
	}
	must(t, ParseConfig(&c, "conf", []byte("LOCKDOWN=confidentiality\nKEYRINGS=open\n")))
	if c.EffectiveLockdown() != "confidentiality" || c.SealKeyrings {
		t.Errorf("configured: lockdown %s, seal %v", c.EffectiveLockdown(), c.SealKeyrings)
	}
	c = DefaultConfig()
	c.BreakGlass = true
	if c.EffectiveLockdown() != "none" {
		t.Errorf("break-glass lockdown %s", c.EffectiveLockdown())
	}
	for _, bad := range []string{"LOCKDOWN=max\n", "KEYRINGS=sealed\n", "BREAK_GLASS=maybe\n"} {
		c := DefaultConfig()
		if err := ParseConfig(&c, "conf", []byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestStatusHolds: the summary line says what holds.
func TestStatusHolds(t *testing.T) {
	s := &Status{Mode: Enforce, Enforcement: EnforcementProven, Keyrings: "sealed", Lockdown: "integrity"}
	if got := s.Holds(); got != "enforce: enforcement proven, keyrings sealed, lockdown integrity" {
		t.Errorf("%q", got)
	}
	s = &Status{Mode: Permissive, BreakGlass: true, Enforcement: EnforcementOff, Warnings: []string{"a", "b"}}
	if got := s.Holds(); !strings.HasPrefix(got, "BREAK-GLASS") || !strings.Contains(got, "enforcement off") || !strings.HasSuffix(got, "2 warning(s)") {
		t.Errorf("%q", got)
	}
}
