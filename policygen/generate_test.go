package policygen

import (
	"strings"
	"testing"
)

// Every profile's output, for each target, must pass Check without errors.
func TestGenerateProfilesPassCheck(t *testing.T) {
	cfg61 := loadConfig(t, "config-6.1-debian-cloud")
	cfg612 := loadConfig(t, "config-6.12-debian-cloud")
	uid := uint32(1000)
	targets := []struct {
		v   KernelVersion
		cfg *KernelConfig
	}{{Kernel61, cfg61}, {Kernel612, cfg612}, {Kernel72, cfg612}, {KernelVersion{6, 14, 0}, nil}, {Kernel61, nil}}
	for _, p := range Profiles() {
		for _, tg := range targets {
			for _, opts := range []GenerateOptions{
				{},
				{Appraisal: "hash", Owner: &uid, ExcludeFS: []string{"vfat,overlay", "squashfs"}},
				{UseFsname: true},
			} {
				opts.Profile, opts.Kernel, opts.Config = p.Name, tg.v, tg.cfg
				if p.SignaturesForAll && opts.Owner != nil {
					// It refuses the owner limit and hash appraisal; the
					// exclusions alone it takes (and check reports them).
					if _, err := Generate(opts); err == nil {
						t.Errorf("profile %s took --owner and --appraisal hash", p.Name)
					}
					opts.Owner, opts.Appraisal = nil, ""
				}
				text, err := Generate(opts)
				if err != nil {
					t.Fatal(err)
				}
				diags := CheckPolicy(p.Name, []byte(text), tg.v, tg.cfg)
				for _, d := range diags {
					// Deliberate holes are the bypass report's to show;
					// anything else is a profile's mistake.
					if d.Severity == Error || (d.Code != CodeConfig && !IsBypass(d.Code)) {
						t.Errorf("profile %s for %s (%+v): %s", p.Name, tg.v, opts, d)
					}
					if p.SignaturesForAll && len(opts.ExcludeFS) == 0 && d.Severity == Warning {
						t.Errorf("profile %s for %s (%+v) leaves a bypass: %s", p.Name, tg.v, opts, d)
					}
				}
			}
		}
	}
}

func TestGenerateOptions(t *testing.T) {
	uid := uint32(1000)
	text, err := Generate(GenerateOptions{Profile: "seed", Kernel: Kernel61, Owner: &uid, Appraisal: "hash", ExcludeFS: []string{"xfs"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"appraise func=BPRM_CHECK fowner=1000\n", "hash fowner=1000\n", "dont_appraise fsmagic=0x58465342\n", "measure func=FILE_CHECK mask=^MAY_READ uid=1000\n", "dont_hash fsmagic=0x62656572\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("seed policy lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "imasig") {
		t.Errorf("hash appraisal still asks for signatures:\n%s", text)
	}
	text, _ = Generate(GenerateOptions{Profile: "attest", Kernel: Kernel612, Config: &KernelConfig{Symbols: map[string]string{"IMA_MEASURE_ASYMMETRIC_KEYS": "n"}}})
	if strings.Contains(text, "\nmeasure func=KEY_CHECK") {
		t.Error("attest profile measures keys on a kernel without IMA_MEASURE_ASYMMETRIC_KEYS")
	}
	if _, err := Generate(GenerateOptions{Profile: "nope"}); err == nil {
		t.Error("unknown profile accepted")
	}
	if _, err := Generate(GenerateOptions{Profile: "tcb", ExcludeFS: []string{"notafs"}}); err == nil {
		t.Error("unknown file system accepted")
	}
	if _, err := Generate(GenerateOptions{Profile: "tcb", Appraisal: "sha256"}); err == nil {
		t.Error("unknown appraisal accepted")
	}
	// The tcb tmpfs rule follows the kernel's own change in 6.14.
	old, _ := Generate(GenerateOptions{Profile: "tcb", Kernel: Kernel612})
	newer, _ := Generate(GenerateOptions{Profile: "tcb", Kernel: Kernel72})
	if !strings.Contains(old, "dont_measure fsmagic=0x1021994\n") || !strings.Contains(newer, "dont_measure fsmagic=0x1021994 func=FILE_CHECK\n") {
		t.Errorf("tcb tmpfs rule:\n%s\n%s", old, newer)
	}
}

func TestFilesystemTable(t *testing.T) {
	if n := len(Filesystems()); n < 40 {
		t.Fatalf("%d file systems, want at least 40", n)
	}
	magics := map[uint64]string{}
	for _, fs := range Filesystems() {
		if other, dup := magics[fs.Magic]; dup {
			t.Errorf("%s and %s share magic %#x", fs.Name, other, fs.Magic)
		}
		magics[fs.Magic] = fs.Name
	}
	for name, magic := range map[string]uint64{"proc": 0x9fa0, "ext3": 0xef53, "vfat": 0x4d44, "cgroup": 0x27e0eb, "iso9660": 0x9660} {
		fs, ok := FilesystemByName(name)
		if !ok || fs.Magic != magic {
			t.Errorf("FilesystemByName(%s) = %#x, %v", name, fs.Magic, ok)
		}
	}
}

func TestExplain(t *testing.T) {
	rules, _ := ReadPolicy("p", []byte("appraise func=BPRM_CHECK fowner=0 appraise_type=imasig\ndont_measure fsmagic=0x9fa0\nmeasure func=FILE_CHECK mask=^MAY_READ uid=0 pcr=11\nmeasure func=NOPE\n"))
	got := Explain(rules, Kernel612, nil)
	want := []string{
		"Appraise programs executed, owned by uid 0: access is refused unless security.ima holds a valid signature by a key in the IMA keyring.\n  Bypass: appraisal of code limited to files owned by uid 0 (fowner=0)",
		"Do not measure every file access IMA sees, on proc file systems (fsmagic 0x9fa0).",
		"Measure files opened when the access asked for includes read, by processes whose user id is 0: record their hash in the measurement list and extend PCR 11.",
		"Refused by Linux 6.12: unknown func",
		"The policy as a whole:\n  Bypass: no appraise rule for MMAP_CHECK: unsigned shared libraries load",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d paragraphs: %q", len(got), got)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("paragraph %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
}

// From 7.3 the kernel's own tcb policy leaves configfs unmeasured.
func TestGenerateTCBConfigfs(t *testing.T) {
	old, _ := Generate(GenerateOptions{Profile: "tcb", Kernel: Kernel72})
	newer, _ := Generate(GenerateOptions{Profile: "tcb", Kernel: Kernel73})
	if strings.Contains(old, "fsmagic=0x62656570") || !strings.Contains(newer, "dont_measure fsmagic=0x62656570\n") {
		t.Errorf("configfs exclusion: 7.2 %v, 7.3 %v", strings.Contains(old, "0x62656570"), strings.Contains(newer, "0x62656570"))
	}
}
