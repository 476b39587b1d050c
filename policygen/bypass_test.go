package policygen

import (
	"encoding/json"
	"strings"
	"testing"
)

// bypassesOf checks src for 6.12 and returns the bypass report's findings
// as "code@line" (line 0: the whole policy), in order.
func bypassesOf(t *testing.T, src string) []string {
	t.Helper()
	var got []string
	for _, d := range CheckPolicy("p", []byte(src), Kernel612, nil) {
		if d.Severity == Error {
			t.Fatalf("%q: %s", src, d)
		}
		if IsBypass(d.Code) {
			got = append(got, d.Code+"@"+itoa(d.Line))
		}
	}
	return got
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

const (
	strictRules = "dont_appraise fsname=rootfs\n" +
		"appraise func=BPRM_CHECK appraise_type=imasig\n" +
		"appraise func=MMAP_CHECK mask=MAY_EXEC appraise_type=imasig\n" +
		"appraise func=MODULE_CHECK appraise_type=imasig\n" +
		"appraise func=FIRMWARE_CHECK appraise_type=imasig\n" +
		"appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig\n" +
		"appraise func=KEXEC_INITRAMFS_CHECK appraise_type=imasig\n"
	noMMAPOn = "bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-hook@0"
)

func TestBypassReport(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"strict closes every hook", strictRules, "bypass-interpreter@0"},
		{"pseudo file systems that hold no code",
			"dont_appraise fsmagic=0x9fa0\ndont_appraise fsname=sysfs\ndont_appraise fsmagic=0x9fa0 fowner=1000\n" + strictRules, "bypass-interpreter@0"},
		{"tmpfs, overlay, fuse and a disk excluded",
			"dont_appraise fsmagic=0x1021994\ndont_appraise fsname=overlay\ndont_appraise fsname=fuse func=BPRM_CHECK\ndont_appraise fsmagic=0xef53 func=MMAP_CHECK\n" + strictRules,
			"bypass-exempt@1 bypass-exempt@2 bypass-exempt@3 bypass-exempt@4 bypass-interpreter@0"},
		{"an unknown file system is reported", "dont_appraise fsmagic=0x12345\n" + strictRules, "bypass-exempt@1 bypass-interpreter@0"},
		{"exemptions by user, owner, UUID, label",
			"dont_appraise uid=1000\ndont_appraise fowner>999\ndont_appraise fsuuid=6f1c2a3e-0d4b-4e5f-9a8b-7c6d5e4f3a2b\ndont_appraise obj_type=tmp_t\n" + strictRules,
			"bypass-exempt@1 bypass-exempt@2 bypass-exempt@3 bypass-exempt@4 bypass-interpreter@0"},
		{"exemptions for data only", "dont_appraise fsmagic=0x1021994 func=FILE_CHECK\ndont_appraise uid=1000 func=POLICY_CHECK\n" + strictRules, "bypass-interpreter@0"},
		// The appraise rule for BPRM_CHECK decides first: the tmpfs rule
		// never decides anything (shadowed), no hole.
		{"shadowed exemption", "appraise func=BPRM_CHECK appraise_type=imasig\ndont_appraise func=BPRM_CHECK fsmagic=0x1021994\n",
			"bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-interpreter@0"},
		{"seed-like owner limit", "dont_appraise fsmagic=0x1021994\nappraise func=BPRM_CHECK fowner=0 appraise_type=imasig\nappraise func=MMAP_CHECK fowner=0 appraise_type=imasig\n",
			"bypass-exempt@1 bypass-limited@2 bypass-limited@3 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-interpreter@0"},
		// A limited rule next to a full one for the same hook is no hole.
		{"limited beside full", "appraise func=BPRM_CHECK uid=0 appraise_type=imasig\n" + strictRules[len("dont_appraise fsname=rootfs\n"):], "bypass-interpreter@0"},
		{"limited by file system and LSM", "appraise func=BPRM_CHECK fsmagic=0xef53 appraise_type=imasig\nappraise func=MMAP_CHECK obj_type=bin_t appraise_type=imasig\n",
			"bypass-limited@1 bypass-limited@2 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-interpreter@0"},
		{"hash appraisal", "dont_appraise fsname=rootfs\nappraise func=BPRM_CHECK\n",
			"bypass-hash@2 " + noMMAPOn + " bypass-interpreter@0"},
		// A mask the hook never asks with: the rule appraises nothing.
		{"wrong mask", "appraise func=BPRM_CHECK mask=MAY_READ appraise_type=imasig\nappraise func=MODULE_CHECK mask=MAY_EXEC appraise_type=imasig\n", "bypass-hook@0"},
		{"rules without func=", "dont_appraise fsname=rootfs\nappraise appraise_type=imasig\n",
			"bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-interpreter@0"},
		{"measurement only", "measure func=BPRM_CHECK\nmeasure func=MMAP_CHECK mask=MAY_EXEC\n", "bypass-hook@0"},
		// After the last appraise rule an exemption decides nothing the
		// report has not said (those hooks are not appraised at all).
		{"exemption after the appraisal", "appraise func=BPRM_CHECK appraise_type=imasig\ndont_appraise fsmagic=0x1021994\n",
			"bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-hook@0 bypass-interpreter@0"},
	} {
		got := strings.Join(bypassesOf(t, tc.src), " ")
		if got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// The messages name the hole and who uses it.
func TestBypassMessages(t *testing.T) {
	src := "dont_appraise fsmagic=0x1021994\ndont_appraise uid=1000\nappraise func=BPRM_CHECK fowner=0 appraise_type=imasig\nappraise fowner=0\n"
	diags := CheckPolicy("p", []byte(src), Kernel61, nil)
	var all []string
	for _, d := range diags {
		all = append(all, d.String())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"p:1:15: warning: code on tmpfs file systems (fsmagic=0x1021994) is not appraised: any user runs unsigned programs from /run/user, /dev/shm or /tmp (when tmpfs), or from a memfd",
		"p:2:15: warning: code run by processes whose user id is 1000 (uid=1000) is not appraised",
		"p:3:26: warning: appraisal of code limited to files owned by uid 0 (fowner=0): a file owned by anyone else is not appraised",
		"p:4:1: warning: a hash in security.ima is enough",
		"p: warning: MODULE_CHECK is appraised only by rules without func=: files are appraised, but init_module, which passes a module in memory, is refused only when a rule names func=MODULE_CHECK",
		"p: note: no policy on Linux 6.1 appraises a script an interpreter reads (sh script.sh, python3 x.py)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "KEXEC_INITRAMFS_CHECK is appraised only") {
		t.Error("KEXEC_INITRAMFS_CHECK has no load without a file, yet it was reported")
	}
}

// The seed, as generated: its holes are the bypass report's, and nothing
// else is wrong with it (issue 19: no mask=MAY_READ, no pseudo-fs).
func TestSeedProfileReport(t *testing.T) {
	for _, v := range []KernelVersion{Kernel61, Kernel612} {
		text, err := Generate(GenerateOptions{Profile: "seed", Kernel: v})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"measure func=FILE_CHECK mask=^MAY_READ uid=0\n", "dont_hash fsmagic=0x62656572\n", "dont_hash fsmagic=0x9fa0\n", "dont_hash fsmagic=0x5a3c69f0\n", "hash fowner=0\n"} {
			if !strings.Contains(text, want) {
				t.Errorf("seed for %s lacks %q", v, want)
			}
		}
		// dont_hash for sysfs comes before the hash rule.
		if strings.Index(text, "dont_hash fsmagic=0x62656572") > strings.Index(text, "hash fowner=0") {
			t.Error("dont_hash for sysfs after the hash rule")
		}
		p, err := Prepare("seed", []byte(text), v.String(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if w := p.Warnings(); len(w) != 0 {
			t.Errorf("seed for %s: warnings besides the bypass report: %v", v, w)
		}
		want := "10 known bypasses: no appraisal of MODULE_CHECK, FIRMWARE_CHECK, KEXEC_KERNEL_CHECK, KEXEC_INITRAMFS_CHECK; appraisal limited by fowner=0; not appraised: tmpfs, ramfs, iso9660, msdos"
		if got := p.BypassSummary(); got != want {
			t.Errorf("seed for %s: summary\n %q\nwant\n %q", v, got, want)
		}
	}
}

func TestStrictProfile(t *testing.T) {
	for _, v := range []KernelVersion{Kernel61, Kernel612, Kernel72} {
		text, err := Generate(GenerateOptions{Profile: "strict", Kernel: v})
		if err != nil {
			t.Fatal(err)
		}
		rules, _ := ReadPolicy("strict", []byte(text))
		var got []string
		for _, r := range rules {
			got = append(got, r.Canonical())
		}
		if want := strings.TrimSuffix(strictRules, "\n"); strings.Join(got, "\n") != want {
			t.Errorf("strict for %s:\n%s\nwant\n%s", v, strings.Join(got, "\n"), want)
		}
		p, _ := Prepare("strict", []byte(text), v.String(), nil)
		if p.Err() != nil || len(p.Warnings()) != 0 || p.BypassSummary() != "" {
			t.Errorf("strict for %s: err %v, warnings %v, bypasses %q", v, p.Err(), p.Warnings(), p.BypassSummary())
		}
	}
	uid := uint32(0)
	for _, opts := range []GenerateOptions{{Owner: &uid}, {Appraisal: "hash"}} {
		opts.Profile = "strict"
		if _, err := Generate(opts); err == nil || !strings.Contains(err.Error(), "profile strict") {
			t.Errorf("strict with %+v: %v", opts, err)
		}
	}
	// Exclusions asked for are written, and reported when they hold code.
	text, _ := Generate(GenerateOptions{Profile: "strict", ExcludeFS: []string{"vfat,proc"}, UseFsname: true})
	if !strings.Contains(text, "dont_appraise fsname=msdos\ndont_appraise fsname=proc\n") {
		t.Errorf("strict --exclude-fs vfat,proc --fsname:\n%s", text)
	}
	if got := strings.Join(bypassesOf(t, text), " "); got != "bypass-exempt@9 bypass-interpreter@0" {
		t.Errorf("strict excluding vfat and proc: %s", got)
	}
}

// With --fsname the profiles keep the initramfs exempt, as their fsmagic=
// of ramfs does: fsname=ramfs does not match it.
func TestFsnameKeepsInitramfsExempt(t *testing.T) {
	for _, name := range []string{"seed", "attest", "appraise_tcb"} {
		text, _ := Generate(GenerateOptions{Profile: name, UseFsname: true})
		if !strings.Contains(text, "dont_appraise fsname=ramfs\ndont_appraise fsname=rootfs\n") && !strings.Contains(text, "dont_appraise fsname=rootfs\n") {
			t.Errorf("%s --fsname has no fsname=rootfs exclusion:\n%s", name, text)
		}
		for _, d := range CheckPolicy(name, []byte(text), NewestKnown, nil) {
			if d.Code == CodeInitramfs {
				t.Errorf("%s --fsname: %s", name, d)
			}
		}
	}
}

func TestInitramfsWarning(t *testing.T) {
	for src, want := range map[string]int{
		"appraise func=BPRM_CHECK appraise_type=imasig\n":                                              1,
		"dont_appraise fsname=rootfs\nappraise func=BPRM_CHECK appraise_type=imasig\n":                 0,
		"dont_appraise fsmagic=0x858458f6\nappraise func=MMAP_CHECK appraise_type=imasig\n":            0,
		"dont_appraise fsname=ramfs\nappraise func=MMAP_CHECK appraise_type=imasig\n":                  1,
		"dont_appraise fsname=rootfs func=MMAP_CHECK\nappraise func=BPRM_CHECK appraise_type=imasig\n": 1,
		"appraise func=MODULE_CHECK appraise_type=imasig\n":                                            0,
		"appraise func=BPRM_CHECK fsmagic=0xef53 appraise_type=imasig\n":                               0,
		"appraise fowner=0\n": 1,
	} {
		if got := codesOf(CheckPolicy("p", []byte(src), Kernel612, nil))[CodeInitramfs]; len(got) != want {
			t.Errorf("%q: %d initramfs warnings, want %d", src, len(got), want)
		}
	}
}

func TestNoteSeverityJSON(t *testing.T) {
	b, err := json.Marshal(Diagnostic{Severity: Note, Code: CodeBypassInterpreter})
	if err != nil || !strings.Contains(string(b), `"severity":"note"`) {
		t.Fatalf("%s %v", b, err)
	}
	var d Diagnostic
	if err := json.Unmarshal(b, &d); err != nil || d.Severity != Note {
		t.Errorf("round trip: %+v %v", d, err)
	}
	if HasErrors([]Diagnostic{d}) {
		t.Error("a note counted as an error")
	}
}
