package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, exitOK},
		{[]string{"new", "--help"}, exitOK},
		{nil, exitUsage},
		{[]string{"bogus"}, exitUsage},
		{[]string{"new"}, exitUsage},
		{[]string{"issue", "--subject", "x"}, exitUsage},
		{[]string{"verify", "--ca", "x"}, exitUsage},
		{[]string{"enroll"}, exitUsage},
		{[]string{"check"}, exitUsage},
		{[]string{"check", "--key-id", "00", "--ca", "x"}, exitUsage},
		{[]string{"check", "--key-id", "8ec5f078"}, exitUsage}, // too short to name a CA
		{[]string{"new", "--subject", "x", "--bogus"}, exitUsage},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (stderr %s)", tc.args, code, tc.code, errb.String())
		}
		if code == exitOK && out.String() != usage {
			t.Errorf("%v: help is not the usage text", tc.args)
		}
		// The shared conventions (docs/command-line.md): a usage error is
		// one line naming the program, never a usage dump.
		if code == exitUsage && (strings.Count(errb.String(), "\n") != 1 || !strings.HasPrefix(errb.String(), "imaboot-ca")) {
			t.Errorf("%v: usage error is not one line naming the program: %q", tc.args, errb.String())
		}
	}
	for _, f := range []string{"new", "issue", "verify", "enroll", "check", "--subject", "--bits", "--days", "--ca CA", "--ca-key", "--key-id", "-o PREFIX", "docs/command-line.md"} {
		if !strings.Contains(usage, f) {
			t.Errorf("usage lacks %s", f)
		}
	}
}

// The owner's flow on the build host: a CA, a release certificate, verify;
// an existing file is never overwritten; a foreign certificate fails verify.
func TestNewIssueVerify(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	do := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := do("new", "--subject", "site CA", "--bits", "2048", "-o", p("ca"))
	if code != exitOK || !strings.Contains(out, "key id:") || !strings.Contains(out, "mokutil --import "+p("ca.der")) {
		t.Fatalf("new: %d\n%s%s", code, out, errs)
	}
	if code, _, errs := do("new", "--subject", "again", "--bits", "2048", "-o", p("ca")); code != exitUsage || !strings.Contains(errs, "not overwritten") {
		t.Errorf("new over an existing CA: %d %s", code, errs)
	}
	code, out, errs = do("issue", "--ca", p("ca.pem"), "--ca-key", p("ca.key"), "--subject", "site release", "-o", p("rel"))
	if code != exitOK || !strings.Contains(out, "key id of its signatures") {
		t.Fatalf("issue: %d\n%s%s", code, out, errs)
	}
	code, _, _ = do("new", "--subject", "other CA", "--bits", "2048", "-o", p("other"))
	if code != exitOK {
		t.Fatal("new other")
	}
	do("issue", "--ca", p("other.pem"), "--ca-key", p("other.key"), "--subject", "foreign", "-o", p("foreign"))
	code, out, _ = do("verify", "--ca", p("ca.der"), p("rel.pem"), p("foreign.der"))
	if code != exitFailed || !strings.Contains(out, "rel.pem: \"site release\" signed by the CA") || !strings.Contains(out, "foreign.der: REFUSED: not signed by the CA") {
		t.Errorf("verify: %d\n%s", code, out)
	}
	if code, _, errs := do("issue", "--ca", p("ca.pem"), "--ca-key", p("other.key"), "--subject", "x", "-o", p("x")); code != exitUsage || !strings.Contains(errs, "does not match") {
		t.Errorf("issue with the wrong key: %d %s", code, errs)
	}
	code, out, _ = do("enroll", "--ca", p("ca.der"))
	if code != exitOK || !strings.Contains(out, "TRUST_CA=") {
		t.Errorf("enroll: %d\n%s", code, out)
	}
	if _, err := os.Stat(p("x.key")); err == nil {
		t.Error("a refused issue left files")
	}
}
