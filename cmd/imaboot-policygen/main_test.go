package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const cfg612 = "../../policygen/testdata/config-6.12-debian-cloud"

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	bad := filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("dont_appraise fsmagic=0x9fa0\nmeasure func=BPRM_CHECK\n"), 0o644)
	os.WriteFile(bad, []byte("measure func=BPRM_CHECK\nmeasure func=MMAP_CHECK_REQPROT\n"), 0o644)
	// A measurement policy: no error; the bypass report says it appraises
	// no code.
	if code, out, errs := runCmd(t, "", "check", "--kernel", "6.12", good); code != exitOK || strings.Contains(out, "error") ||
		!strings.Contains(out, "warning: the policy appraises no code") || !strings.Contains(errs, "0 error(s), 1 warning(s), 0 note(s)") {
		t.Errorf("good policy: code %d, output %q %q", code, out, errs)
	}
	code, out, _ := runCmd(t, "", "check", "--kernel", "6.1", good, bad)
	if code != exitFindings || !strings.Contains(out, bad+":2:14: error: func=MMAP_CHECK_REQPROT is not in the grammar of Linux 6.1") {
		t.Errorf("bad policy on 6.1: code %d, output %q", code, out)
	}
	if code, _, _ := runCmd(t, "", "check", "--kernel", "6.3", bad); code != exitOK {
		t.Errorf("bad policy on 6.3: code %d, want 0", code)
	}
	for _, args := range [][]string{
		{"check", "--kernel", "6.1", filepath.Join(dir, "missing")},
		{"check", "--kernel", "banana", good},
		{"check", "--kernel", "6.1", "--kernel-config", good, good},
		{"check", "--kernel", "6.1", "--format", "xml", good},
		{"check", "--kernel", "6.1"},
		{"check", "--bogus"},
		{"nope"},
		{},
	} {
		if code, _, _ := runCmd(t, "", args...); code != exitUsage {
			t.Errorf("%q: code %d, want %d", args, code, exitUsage)
		}
	}
}

func TestCheckJSONAndStdin(t *testing.T) {
	code, out, _ := runCmd(t, "measure obj_type=x\nmeasure func=FILE_MMAP\n", "check", "--kernel", "6.12", "--kernel-config", cfg612, "--format", "json", "-")
	if code != exitFindings {
		t.Fatalf("code %d", code)
	}
	var r checkReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err, out)
	}
	if r.Kernel != "6.12" || r.Errors != 1 || r.Warnings != 2 || r.Notes != 0 || r.Diagnostics[0].Line != 1 || r.Diagnostics[0].Column != 9 || r.Files[0] != "<stdin>" ||
		r.Diagnostics[2].Code != "bypass-hook" {
		t.Errorf("report = %+v", r)
	}
	if !strings.Contains(out, `"severity": "error"`) {
		t.Errorf("severity not spelled out: %s", out)
	}
}

func TestGenerateThenCheckAndExplain(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "policy")
	if code, _, errs := runCmd(t, "", "generate", "--profile", "attest", "--kernel", "6.12", "--kernel-config", cfg612, "--exclude-fs", "vfat", "--owner", "0", "-o", out); code != exitOK {
		t.Fatalf("generate: %d %s", code, errs)
	}
	// No error; the owner limit and the exclusions are the bypass report's.
	code, o, _ := runCmd(t, "", "check", "--kernel", "6.12", "--kernel-config", cfg612, out)
	if code != exitOK || strings.Contains(o, ": error:") || !strings.Contains(o, "warning: appraisal of code limited to files owned by uid 0 (fowner=0)") ||
		!strings.Contains(o, "warning: code on msdos file systems (fsmagic=0x4d44) is not appraised") || !strings.Contains(o, "note: no policy on Linux 6.12") {
		t.Errorf("generated policy: code %d, %s", code, o)
	}
	code, o, _ = runCmd(t, "", "explain", "--kernel", "6.12", out)
	if code != exitOK || !strings.Contains(o, "Appraise programs executed, owned by uid 0") || !strings.Contains(o, "on msdos file systems") ||
		!strings.Contains(o, "\n  Bypass: appraisal of code limited to files owned by uid 0") || !strings.Contains(o, "The policy as a whole:\n  Bypass: no appraise rule for FIRMWARE_CHECK") {
		t.Errorf("explain: %d\n%s", code, o)
	}
	// strict: no bypass, only the note; it refuses what would reopen one.
	code, o, _ = runCmd(t, "", "generate", "--profile", "strict", "--kernel", "6.1")
	if code != exitOK || !strings.Contains(o, "dont_appraise fsname=rootfs\n") || !strings.Contains(o, "appraise func=MMAP_CHECK mask=MAY_EXEC appraise_type=imasig\n") {
		t.Fatalf("generate strict: %d\n%s", code, o)
	}
	if code, c, errs := runCmd(t, o, "check", "--kernel", "6.1", "-"); code != exitOK || strings.Contains(c, "warning") || !strings.Contains(errs, "0 error(s), 0 warning(s), 1 note(s)") {
		t.Errorf("check strict: %d %q %q", code, c, errs)
	}
	for _, args := range [][]string{
		{"generate", "--profile", "strict", "--owner", "0"},
		{"generate", "--profile", "strict", "--appraisal", "hash"},
	} {
		if code, _, errs := runCmd(t, "", args...); code != exitUsage || !strings.Contains(errs, "profile strict") {
			t.Errorf("%q: code %d, %q", args, code, errs)
		}
	}
	for _, args := range [][]string{
		{"generate"},
		{"generate", "--profile", "nope"},
		{"generate", "--profile", "tcb", "--owner", "root"},
		{"generate", "--profile", "tcb", "--exclude-fs", "notafs"},
		{"explain"},
	} {
		if code, _, _ := runCmd(t, "", args...); code != exitUsage {
			t.Errorf("%q: code %d, want %d", args, code, exitUsage)
		}
	}
}

// Every flag of every command appears in its --help, and help exits 0.
func TestHelpCoversFlags(t *testing.T) {
	code, top, _ := runCmd(t, "", "--help")
	if code != exitOK {
		t.Fatalf("--help: %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(top, c.name) {
			t.Errorf("top help lacks %s", c.name)
		}
		code, out, _ := runCmd(t, "", c.name, "--help")
		if c.name == "profiles" || c.name == "filesystems" || c.name == "corpus" {
			continue
		}
		if code != exitOK || !strings.Contains(out, "Examples") || !strings.Contains(out, "Exit status") {
			t.Errorf("%s --help: code %d, output %q", c.name, code, out)
		}
		for _, f := range flagNames(t, c.name) {
			if !strings.Contains(out, "-"+f) {
				t.Errorf("%s --help does not mention -%s", c.name, f)
			}
		}
	}
}

// flagNames collects the flags a command registers from its --help (the
// Flags: part, which package flag writes from the definitions).
func flagNames(t *testing.T, cmd string) []string {
	var names []string
	_, out, _ := runCmd(t, "", cmd, "--help")
	_, flags, _ := strings.Cut(out, "\nFlags:\n")
	for _, line := range strings.Split(flags, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "--") {
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "-"), " ")
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s: no flags found in --help %q", cmd, out)
	}
	return names
}

// Usage errors are one line on stderr naming the program; --help is printed
// once, on stdout; commands without flags refuse unknown ones; explain
// exits 1 on a policy the kernel would refuse.
func TestUsageConventions(t *testing.T) {
	for _, args := range [][]string{{"check", "--bogus"}, {"profiles", "--bogus"}, {"filesystems", "x"}, {"corpus", "--bogus"}, {"nope"}, {}, {"explain"}, {"generate", "--kernel", "6.1"}} {
		code, out, errs := runCmd(t, "", args...)
		if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "imaboot-policygen") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want 2 and one line", args, code, out, errs)
		}
	}
	code, out, errs := runCmd(t, "", "check", "--help")
	if code != exitOK || errs != "" || strings.Count(out, "Usage: imaboot-policygen check") != 1 {
		t.Errorf("check --help: exit %d, stderr %q, usage %d times on stdout", code, errs, strings.Count(out, "Usage: imaboot-policygen check"))
	}
	// Every --help points to the page of the common conventions.
	for _, args := range [][]string{{"--help"}, {"check", "--help"}, {"explain", "--help"}, {"generate", "--help"}, {"oracle", "--help"},
		{"profiles", "--help"}, {"filesystems", "--help"}, {"corpus", "--help"}} {
		if _, out, _ := runCmd(t, "", args...); !strings.Contains(out, "docs/command-line.md") {
			t.Errorf("%q does not point to docs/command-line.md", args)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("measure func=BPRM_CHECK\nmeasure func=MMAP_CHECK_REQPROT\n"), 0o644)
	if code, out, _ := runCmd(t, "", "explain", "--kernel", "6.1", bad); code != exitFindings || !strings.Contains(out, "MMAP_CHECK_REQPROT") {
		t.Errorf("explain of a policy 6.1 refuses: exit %d\n%s", code, out)
	}
}

func TestOracleRefusesPlainFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "policy")
	os.WriteFile(f, nil, 0o644)
	code, _, errs := runCmd(t, "", "oracle", "--policy", f, "--kernel", "6.1")
	if code != exitUsage || !strings.Contains(errs, "not a kernel IMA policy file") {
		t.Errorf("code %d, stderr %q", code, errs)
	}
}

func TestListings(t *testing.T) {
	if _, out, _ := runCmd(t, "", "filesystems"); strings.Count(out, "\n") < 40 || !strings.Contains(out, "proc") {
		t.Errorf("filesystems: %q", out)
	}
	if _, out, _ := runCmd(t, "", "profiles"); !strings.Contains(out, "seed") {
		t.Errorf("profiles: %q", out)
	}
	_, out, _ := runCmd(t, "", "corpus")
	var rules []string
	if err := json.Unmarshal([]byte(out), &rules); err != nil || len(rules) < 300 {
		t.Errorf("corpus: %v, %d rules", err, len(rules))
	}
}
