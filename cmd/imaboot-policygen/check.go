package main

import (
	"encoding/json"
	"io"

	"github.com/imaboot/imaboot/internal/cli"
	"github.com/imaboot/imaboot/policygen"
)

const checkUsage = `
Usage: imaboot-policygen check [--kernel VERSION] [--kernel-config FILE] [--lsm LSM] [--format text|json] POLICY...

Checks each policy file (or - for standard input) the way the target kernel
parses it, and prints errors, warnings and notes as file:line:column: severity:
message. Errors are rules the kernel refuses (and with them the whole policy);
warnings are rules it takes that are surely not what was meant, verdicts that
depend on the machine (a crypto module, the LSM, a build option not given), and
the bypass report: the known ways around what the policy appraises of code
(codes bypass-*: appraisal limited by fowner=, uid=, a file system; file systems
that hold code left out, tmpfs and memfd first; code loads no rule appraises;
hash-only appraisal). Notes are facts no rule changes (what an interpreter reads
is never appraised).

Examples:
  imaboot-policygen check --kernel 6.1 /etc/imaboot/ima-policy
  imaboot-policygen check --kernel 6.12 --kernel-config /boot/config-6.12.48+deb13-cloud-amd64 policy
  imaboot-policygen check --kernel latest --format json a.policy b.policy

Exit status: 0 no errors (warnings allowed), 1 errors, 2 unusable input
(docs/command-line.md).
`

type checkReport struct {
	Kernel      string                 `json:"kernel"`
	Files       []string               `json:"files"`
	Errors      int                    `json:"errors"`
	Warnings    int                    `json:"warnings"`
	Notes       int                    `json:"notes"`
	Diagnostics []policygen.Diagnostic `json:"diagnostics"`
}

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("check")
	var t target
	t.register(fs)
	format := fs.String("format", "text", "output format: text or json")
	if code, done := parseFlags(fs, args, checkUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(stderr, "check", "no POLICY given (- for standard input)")
	}
	if err := cli.OneOf("--format", *format, "text", "json"); err != nil {
		return usageError(stderr, "check", "%v", err)
	}
	v, cfg, err := t.resolve()
	if err != nil {
		printf(stderr, "imaboot-policygen check: %v\n", err)
		return exitUsage
	}
	report := checkReport{Kernel: v.String(), Diagnostics: []policygen.Diagnostic{}}
	for _, name := range fs.Args() {
		src, err := readInput(name, stdin)
		if err != nil {
			printf(stderr, "imaboot-policygen check: %v\n", err)
			return exitUsage
		}
		label := name
		if name == "-" {
			label = "<stdin>"
		}
		report.Files = append(report.Files, label)
		report.Diagnostics = append(report.Diagnostics, policygen.CheckPolicy(label, src, v, cfg)...)
	}
	for _, d := range report.Diagnostics {
		switch d.Severity {
		case policygen.Error:
			report.Errors++
		case policygen.Note:
			report.Notes++
		default:
			report.Warnings++
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(report)
	} else {
		for _, d := range report.Diagnostics {
			printf(stdout, "%s\n", d)
		}
		printf(stderr, "checked %d file(s) for Linux %s: %d error(s), %d warning(s), %d note(s)\n", len(report.Files), v, report.Errors, report.Warnings, report.Notes)
	}
	if report.Errors > 0 {
		return exitFindings
	}
	return exitOK
}
