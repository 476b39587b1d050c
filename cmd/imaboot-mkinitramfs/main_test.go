package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/images"
	"github.com/imaboot/imaboot/kmod/kmodtest"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	rc := run(args, &out, &errb)
	return rc, out.String(), errb.String()
}

// A fake kernel package: root/lib/modules/6.1.0-t/kernel/{a,b-c}.ko with
// b-c needing a; plus an init, a config and a directory to copy.
func fixture(t *testing.T) string {
	d := t.TempDir()
	kmodtest.WriteTree(t, filepath.Join(d, "root/lib/modules/6.1.0-t"), []kmodtest.Module{
		{Path: "kernel/a.ko"},
		{Path: "kernel/b-c.ko.xz", Depends: []string{"a"}},
	})
	os.WriteFile(filepath.Join(d, "init"), []byte("init"), 0o755)
	os.WriteFile(filepath.Join(d, "conf"), []byte("MODE=enforce\nIMA_POLICY=\nMIN_IMA_CERTS=0\n"), 0o644)
	os.MkdirAll(filepath.Join(d, "tree/x"), 0o755)
	os.WriteFile(filepath.Join(d, "tree/x/y"), []byte("y"), 0o600)
	return d
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	rc, out, _ := runCLI("--help")
	if rc != 0 {
		t.Fatalf("--help exit %d", rc)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	// Every flag the code defines must appear in the help text.
	defs := regexp.MustCompile(`fs\.(?:String|Bool)?Var\(&[^,]+, "([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(defs) < 10 {
		t.Fatalf("found only %d flag definitions", len(defs))
	}
	for _, d := range defs {
		name := "--" + d[1]
		if len(d[1]) == 1 {
			name = "-" + d[1]
		}
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `[ \n]`).MatchString(out) {
			t.Errorf("--help does not document %s", name)
		}
	}
	if !strings.Contains(out, "Examples:") {
		t.Error("--help has no examples")
	}
}

func TestBuildMatchesLibrary(t *testing.T) {
	d := fixture(t)
	out := filepath.Join(d, "initrd.img")
	rc, stdout, stderr := runCLI("-o", out, "--init", filepath.Join(d, "init"), "--kernel-root", filepath.Join(d, "root"),
		"--module", "b_c", "--module", "a,", "--config", filepath.Join(d, "conf"),
		"--file", filepath.Join(d, "conf")+":/etc/copy.conf", "--dir", filepath.Join(d, "tree")+":/opt/tree")
	if rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	if !strings.Contains(stdout, "modules in load order: a b_c") || !strings.Contains(stdout, "kernel 6.1.0-t") {
		t.Errorf("summary %q", stdout)
	}
	var want bytes.Buffer
	_, err := images.Build(&want, images.Spec{
		Init: filepath.Join(d, "init"), KernelRoot: filepath.Join(d, "root"), Modules: []string{"b_c", "a"},
		Config: filepath.Join(d, "conf"),
		Files:  []images.Mapping{{Src: filepath.Join(d, "conf"), Dst: "/etc/copy.conf"}},
		Dirs:   []images.Mapping{{Src: filepath.Join(d, "tree"), Dst: "/opt/tree"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("the command's image differs from images.Build with the same spec")
	}
	// --no-compress writes a bare newc archive.
	raw := filepath.Join(d, "raw.cpio")
	if rc, _, stderr := runCLI("-o", raw, "--quiet", "--no-compress", "--init", filepath.Join(d, "init"), "--config", filepath.Join(d, "conf")); rc != 0 {
		t.Fatalf("exit %d: %s", rc, stderr)
	}
	if b, _ := os.ReadFile(raw); !bytes.HasPrefix(b, []byte("070701")) {
		t.Errorf("--no-compress output starts % x", b[:6])
	}
}

func TestExitCodes(t *testing.T) {
	d := fixture(t)
	out := filepath.Join(d, "o.img")
	for _, tc := range []struct {
		args []string
		rc   int
		msg  string
	}{
		{[]string{"--init", "x"}, 2, "-o OUT is required"},
		{[]string{"-o", out, "--bogus"}, 2, "bogus"},
		{[]string{"-o", out, "--no-init", "--module", "a"}, 2, "--module needs --kernel-root"},
		{[]string{"-o", out, "--no-init", "--file", "noslash"}, 2, "SRC:DST"},
		{[]string{"-o", out, "--no-init", "--dir", "a:rel"}, 2, "SRC:DST"},
		{[]string{"-o", out, "extra"}, 2, "unexpected argument"},
		{[]string{"-o", out, "--no-init", "--kernel-root", filepath.Join(d, "root"), "--module", "nosuch"}, 2, "module nosuch not found"},
		{[]string{"-o", out, "--no-init", "--file", "/nonexistent:/x"}, 2, "/nonexistent"},
	} {
		rc, _, stderr := runCLI(tc.args...)
		if rc != tc.rc || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d %q; want %d and %q", tc.args, rc, stderr, tc.rc, tc.msg)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed build left an output file")
	}
}

func TestParseMapping(t *testing.T) {
	m, err := parseMapping("/host/with:colon/file:/etc/x")
	if err != nil || m.Src != "/host/with:colon/file" || m.Dst != "/etc/x" {
		t.Errorf("got %+v %v", m, err)
	}
}

// Images that cannot boot are refused with the file, line and reason, and
// nothing is written; --no-check writes them anyway.
func TestRefusesImagesThatCannotBoot(t *testing.T) {
	d := fixture(t)
	root := filepath.Join(d, "root")
	// The kernel's configuration: no appended-signature support.
	os.MkdirAll(filepath.Join(root, "boot"), 0o755)
	os.WriteFile(filepath.Join(root, "boot/config-6.1.0-t"), []byte("CONFIG_IMA=y\nCONFIG_IMA_APPRAISE=y\n# CONFIG_IMA_APPRAISE_MODSIG is not set\n"), 0o644)
	write := func(name, content string) string {
		p := filepath.Join(d, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	cert := write("ima.der", "a certificate")
	goodPolicy := write("good-policy", "dont_appraise fsmagic=0x9fa0\nappraise func=BPRM_CHECK appraise_type=imasig\n")
	badPolicy := write("bad-policy", "dont_appraise fsmagic=0x9fa0\nappraise func=BPRM_CHECK appraise_type=imasig|modsig\n")
	integrity := []string{"--file", cert + ":/etc/keys/ima/ima.der", "--file", goodPolicy + ":/etc/imaboot/ima-policy"}
	base := []string{"--init", filepath.Join(d, "init"), "--kernel-root", root}
	out := filepath.Join(d, "o.img")
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"MODE=enforcing", append([]string{"--config", write("c1", "# site\nMODE=enforcing\n")}, integrity...),
			d + `/c1:2: MODE must be enforce or permissive, not "enforcing"`},
		{"unknown key", append([]string{"--config", write("c2", "MODE=enforce\nPOLICY=/x\n")}, integrity...),
			d + "/c2:2: unknown key POLICY"},
		{"malformed line", append([]string{"--config", write("c3", "MODE=enforce\nthis line is wrong\n")}, integrity...),
			d + `/c3:2: not a KEY=value line: "this line is wrong"`},
		{"a directory as --config", append([]string{"--config", filepath.Join(d, "tree")}, integrity...),
			"--config " + filepath.Join(d, "tree") + ": " + filepath.Join(d, "tree") + " is a directory, not a regular file"},
		{"a policy the kernel refuses", []string{"--config", write("c4", "MODE=enforce\n"), "--file", cert + ":/etc/keys/ima/ima.der", "--file", badPolicy + ":/etc/imaboot/ima-policy"},
			badPolicy + ":2:"},
		{"no policy in the image", []string{"--file", cert + ":/etc/keys/ima/ima.der"},
			"IMA_POLICY=/etc/imaboot/ima-policy is not a file in the image"},
		{"no certificate in enforce mode", []string{"--file", goodPolicy + ":/etc/imaboot/ima-policy"},
			"no certificate under /etc/keys/ima in the image"},
		{"a dracut sysconfig file", append([]string{"--file", write("ima", "IMAPOLICY=relative\n") + ":/etc/sysconfig/ima"}, integrity...),
			d + `/ima:1: IMA_POLICY must be an absolute path, not "relative"`},
	} {
		rc, _, stderr := runCLI(append(append([]string{"-o", out}, base...), tc.args...)...)
		if rc != 2 || !strings.Contains(stderr, tc.msg) || !strings.Contains(stderr, "not written") && tc.name != "a directory as --config" {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant 2 and %q", tc.name, rc, stderr, tc.msg)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: an image was written", tc.name)
		}
	}
	rc, _, stderr := runCLI(append(append([]string{"-o", out, "--quiet"}, base...), integrity...)...)
	if rc != 0 {
		t.Errorf("a good image: exit %d: %s", rc, stderr)
	}
	// The good policy leaves known bypasses (no MODULE_CHECK rule, ...):
	// one line sums them up, as at boot, instead of a warning each; the
	// hook-mode warning does not apply to an image whose /init is the agent.
	if n := strings.Count(stderr, "known bypasses: no appraisal of MMAP_CHECK, MODULE_CHECK"); n != 1 || strings.Contains(stderr, "no appraise rule for") || strings.Contains(stderr, "fsname=rootfs") {
		t.Errorf("a good image's warnings: want one bypass line (got %d) and no warning per bypass:\n%s", n, stderr)
	}
	if rc, _, stderr := runCLI("-o", out, "--quiet", "--kernel-root", root); rc != 2 || !strings.Contains(stderr, "--init is required") {
		t.Errorf("no --init: exit %d: %s", rc, stderr)
	}
	if rc, _, stderr := runCLI(append([]string{"-o", out, "--quiet", "--no-check", "--config", write("c5", "MODE=enforcing\n")}, base...)...); rc != 0 {
		t.Errorf("--no-check: exit %d: %s", rc, stderr)
	}
}
