package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/imaboot/imaboot/policygen"
)

const explainUsage = `
Usage: imaboot-policygen explain [--kernel VERSION] [--kernel-config FILE] POLICY

Describes each rule in plain words: what is measured or appraised, for whom,
on which file systems. Rules the target kernel would refuse are said so. The
bypass report (as in "check") follows the rule it is about ("Bypass: ..."),
and what concerns the policy as a whole comes last.

Examples:
  imaboot-policygen explain /etc/imaboot/ima-policy
  imaboot-policygen generate --profile seed | imaboot-policygen explain --kernel 6.1 -

Exit status: 0 explained (even with refused rules), 2 unusable input.
`

func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("explain", explainUsage, stdout, stderr)
	var t target
	t.register(fs)
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	v, cfg, err := t.resolve()
	if err != nil {
		printf(stderr, "imaboot-policygen explain: %v\n", err)
		return exitUsage
	}
	src, err := readInput(fs.Arg(0), stdin)
	if err != nil {
		printf(stderr, "imaboot-policygen explain: %v\n", err)
		return exitUsage
	}
	rules, diags := policygen.ReadPolicy(fs.Arg(0), src)
	for _, d := range diags {
		printf(stdout, "%s\n", d)
	}
	for _, p := range policygen.Explain(rules, v, cfg) {
		printf(stdout, "%s\n", p)
	}
	if len(rules) == 0 {
		printf(stdout, "The policy has no rules.\n")
	}
	return exitOK
}

func runProfiles(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	for _, p := range policygen.Profiles() {
		printf(stdout, "%-13s %s\n", p.Name, p.Summary)
	}
	return exitOK
}

func runFilesystems(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	for _, f := range policygen.Filesystems() {
		kind := ""
		if f.Pseudo {
			kind = "pseudo"
		}
		aliases := ""
		if len(f.Aliases) > 0 {
			aliases = "also " + strings.Join(f.Aliases, ", ")
		}
		printf(stdout, "%-13s %#-12x %-7s %s\n", f.Name, f.Magic, kind, aliases)
	}
	return exitOK
}

func runCorpus(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(policygen.OracleCorpus()); err != nil {
		fmt.Fprintf(stderr, "imaboot-policygen corpus: %v\n", err)
		return exitUsage
	}
	return exitOK
}
