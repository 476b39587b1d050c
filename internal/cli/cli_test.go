package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	var quiet bool
	var algo string
	fs := NewFlagSet("imaboot-x")
	Quiet(fs, &quiet)
	fs.StringVar(&algo, "hash-algo", "sha256", "")
	Alias(fs, "algo", "hash-algo")
	var out, errb bytes.Buffer

	ops, code, done := Parse(fs, []string{"a", "-q", "--algo", "sha512", "b", "--", "-c"}, "USAGE\n", &out, &errb)
	if done || code != 0 || strings.Join(ops, " ") != "a b -c" || !quiet || algo != "sha512" {
		t.Errorf("operands %q code %d done %v quiet %v algo %s", ops, code, done, quiet, algo)
	}

	_, code, done = Parse(NewFlagSet("imaboot-x"), []string{"--help"}, "USAGE\n", &out, &errb)
	if !done || code != ExitOK || out.String() != "USAGE\n" || errb.Len() != 0 {
		t.Errorf("--help: code %d, stdout %q, stderr %q (want the usage once, on stdout)", code, out.String(), errb.String())
	}
	out.Reset()
	_, code, done = Parse(NewFlagSet("imaboot-x"), []string{"--bogus"}, "USAGE\n", &out, &errb)
	if want := "imaboot-x: unknown option --bogus (see imaboot-x --help)\n"; !done || code != ExitUsage || errb.String() != want || out.Len() != 0 {
		t.Errorf("a bad flag: code %d, stderr %q, want %q", code, errb.String(), want)
	}
}

func TestOneOf(t *testing.T) {
	if err := OneOf("--progress", "bogus", "auto", "always", "never"); err == nil || err.Error() != `--progress "bogus": want auto, always or never` {
		t.Errorf("%v", err)
	}
	if OneOf("--evm", "none", "none", "portable") != nil || Workers(0) != nil || Workers(-1) == nil {
		t.Error("a good value refused, or --workers -1 accepted")
	}
}
