package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/internal/cli"
	"github.com/imaboot/imaboot/relabel"
	"golang.org/x/sys/unix"
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// Every flag (and every alias) is documented in --help.
func TestHelpDocumentsEveryFlag(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		usage string
	}{
		{[]string{"--help"}, usageLabel},
		{[]string{"verify", "--help"}, usageVerify},
		{[]string{"--from-dpkg", "--help"}, usageFromDpkg},
	} {
		code, out, _ := runCmd(tc.args...)
		if code != cli.ExitOK || out != tc.usage {
			t.Fatalf("%v: code %d, stdout %q", tc.args, code, out)
		}
	}
	var l labelArgs
	var c common
	var certs listFlag
	for usage, fs := range map[string]*flag.FlagSet{usageLabel: labelFlags(&l), usageVerify: verifyFlags(&c, &certs)} {
		fs.VisitAll(func(f *flag.Flag) {
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			if !regexp.MustCompile(`[ (]` + regexp.QuoteMeta(dash+f.Name) + `[ ,]`).MatchString(usage) {
				t.Errorf("%s usage does not document %s%s", fs.Name(), dash, f.Name)
			}
		})
	}
}

func labelableDir(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("needs root for security.* xattrs")
	}
	d := t.TempDir()
	p := filepath.Join(d, "probe")
	os.WriteFile(p, nil, 0o644)
	if err := unix.Setxattr(p, relabel.XattrIMA, []byte{1}, 0); err != nil {
		t.Skipf("no security.ima here: %v", err)
	}
	os.Remove(p)
	return d
}

func openssl(t *testing.T, args ...string) {
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

func hasIMA(p string) bool {
	_, err := unix.Getxattr(p, relabel.XattrIMA, nil)
	return !errors.Is(err, unix.ENODATA)
}

// Bad input is refused with exit 2 before any file is touched.
func TestBadInputExitsBeforeLabeling(t *testing.T) {
	d := labelableDir(t)
	f := filepath.Join(d, "f")
	os.WriteFile(f, []byte("data"), 0o755)
	k1, c1, c2 := filepath.Join(d, "1.key"), filepath.Join(d, "1.pem"), filepath.Join(d, "2.pem")
	openssl(t, "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-subj", "/CN=1", "-keyout", k1, "-out", c1)
	openssl(t, "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-subj", "/CN=2", "-keyout", filepath.Join(d, "2.key"), "-out", c2)
	unreadable := filepath.Join(d, "unreadable.key")
	os.WriteFile(unreadable, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sign", "--key", filepath.Join(d, "none.key"), "--cert", c1, f}, "no such file"},
		{[]string{"--sign", "--key", unreadable, "--cert", c1, f}, "signing key"},
		{[]string{"--sign", "--key", k1, "--cert", c2, f}, "does not match"},
		{[]string{"--algo", "md5", f}, "unsupported algorithm"},
		{[]string{"--hash-algo", "md5", f}, "unsupported algorithm"},
		{[]string{"--progress", "bogus", f}, `--progress "bogus": want auto, always or never`},
		{[]string{"--workers", "-1", f}, "--workers -1"},
		{[]string{"--bogus", f}, "unknown option --bogus"},
		{[]string{f, filepath.Join(d, "missing")}, "no such file"},
		{[]string{"--sign", f}, "needs --key"},
		{[]string{"--evm", "portable", f}, "signing key"},
		{[]string{"--evm", "hmac", f}, "want none or portable"},
		{[]string{}, "no PATH"},
	} {
		code, _, stderr := runCmd(append([]string{"--progress", "never"}, tc.args...)...)
		if code != cli.ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", tc.args, code, stderr, tc.want)
		}
	}
	if hasIMA(f) {
		t.Fatal("a file was labeled despite bad input")
	}

	// Then a good run, and verify's exit codes.
	if code, out, stderr := runCmd("--sign", "--key", k1, "--cert", c1, "--json", d); code != cli.ExitOK {
		t.Fatalf("sign: %d %s %s", code, out, stderr)
	}
	if code, out, _ := runCmd("verify", "--cert", c1, d); code != cli.ExitOK || !strings.Contains(out, "verified, 0 failed") {
		t.Fatalf("verify: %d %s", code, out)
	}
	os.WriteFile(filepath.Join(d, "new"), []byte("unlabeled"), 0o644)
	code, out, _ := runCmd("verify", "--json", "--cert", c1, d)
	var rep relabel.VerifyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != cli.ExitFailed || rep.Failed != 1 || rep.Problems[0].IMA != relabel.StatusMissing {
		t.Fatalf("verify with an unlabeled file: exit %d, %+v %v", code, rep, err)
	}
}

func TestProgressLine(t *testing.T) {
	p := relabel.Progress{Files: 10, Found: 40, Bytes: 1 << 30, FoundBytes: 3 << 30, WalkDone: true, Elapsed: 2e9}
	if got, want := progressLine(p), "10/40 files  1.0 GiB/3.0 GiB  512.0 MiB/s  ETA 4s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	p.WalkDone = false
	if got := progressLine(p); !strings.HasSuffix(got, "(still walking)") {
		t.Errorf("no ETA before the walk ends: %q", got)
	}
}

func TestFromDpkgExitCodes(t *testing.T) {
	var out, errb strings.Builder
	if code := run([]string{"--from-dpkg", "/usr"}, &out, &errb); code != cli.ExitUsage {
		t.Errorf("a PATH with --from-dpkg: exit %d, want %d", code, cli.ExitUsage)
	}
	errb.Reset()
	if code := run([]string{"--from-dpkg", "--root", t.TempDir()}, &out, &errb); code != cli.ExitUsage || !strings.Contains(errb.String(), "dpkg status") {
		t.Errorf("a root without dpkg database: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"--from-dpkg", "--root", "/nonexistent"}, &out, &errb); code != cli.ExitUsage || !strings.Contains(errb.String(), "/nonexistent") {
		t.Errorf("a root that does not exist: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"--from-dpkg", "--workers", "-1"}, &out, &errb); code != cli.ExitUsage {
		t.Errorf("--workers -1: exit %d, stderr %q", code, errb.String())
	}
}
