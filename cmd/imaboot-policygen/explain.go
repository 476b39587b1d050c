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

Exit status: 0 explained, no errors; 1 the policy has errors (rules the
target kernel refuses: said in the explanation); 2 unusable input
(docs/command-line.md).
`

func runExplain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("explain")
	var t target
	t.register(fs)
	if code, done := parseFlags(fs, args, explainUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(stderr, "explain", "give one POLICY (- for standard input)")
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
	if policygen.HasErrors(append(diags, policygen.Check(rules, v, cfg)...)) {
		return exitFindings
	}
	return exitOK
}

// noArgs parses the flags of a command that takes none: only --help.
func noArgs(name, usage string, args []string, stdout, stderr io.Writer) (int, bool) {
	fs := newFlags(name)
	if code, done := parseFlags(fs, args, usage, stdout, stderr); done {
		return code, true
	}
	if fs.NArg() != 0 {
		return usageError(stderr, name, "unexpected argument %q", fs.Arg(0)), true
	}
	return 0, false
}

const profilesUsage = `
Usage: imaboot-policygen profiles

Lists the profiles of generate, one a line: name and what it does.
Exit status: 0 listed, 2 unusable input (an argument); docs/command-line.md.
`

const filesystemsUsage = `
Usage: imaboot-policygen filesystems

Lists the file systems generate and check know: name, magic, whether it is
a pseudo file system, other names.
Exit status: 0 listed, 2 unusable input (an argument); docs/command-line.md.
`

const corpusUsage = `
Usage: imaboot-policygen corpus

Prints the oracle corpus of single rules, a JSON list of strings (see oracle).
Exit status: 0 printed, 2 unusable input (an argument); docs/command-line.md.
`

func runProfiles(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if code, done := noArgs("profiles", profilesUsage, args, stdout, stderr); done {
		return code
	}
	for _, p := range policygen.Profiles() {
		printf(stdout, "%-13s %s\n", p.Name, p.Summary)
	}
	return exitOK
}

func runFilesystems(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if code, done := noArgs("filesystems", filesystemsUsage, args, stdout, stderr); done {
		return code
	}
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
	if code, done := noArgs("corpus", corpusUsage, args, stdout, stderr); done {
		return code
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(policygen.OracleCorpus()); err != nil {
		fmt.Fprintf(stderr, "imaboot-policygen corpus: %v\n", err)
		return exitUsage
	}
	return exitOK
}
