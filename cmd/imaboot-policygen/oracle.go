package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/imaboot/imaboot/policygen"
)

const oracleUsage = `
Usage: imaboot-policygen oracle [--policy FILE] [--kernel VERSION] [--kernel-config FILE] [--lsm LSM] [--corpus FILE]

For the VM test: writes every rule of the oracle corpus (or of --corpus, a JSON
list of strings) to the running kernel's policy file one at a time, without
loading anything (each session is poisoned with an invalid rule before close),
and compares the kernel's verdict with what "check" predicts for --kernel.
Prints one line per disagreement, then a summary line:
  ORACLE DISAGREE kernel=accept|refuse(ERRNO) predicted=accept|refuse rule="..." reason="..."
  ORACLE SUMMARY kernel=6.1 rules=N agree=N disagree=N uncertain=N
Uncertain predictions (verdicts that depend on what was not given) are listed
as ORACLE UNCERTAIN and do not fail the run.

The active LSM is read from the lsm file of the same securityfs unless --lsm
is given; securityfs must be mounted. Give the kernel's /boot/config-* as
--kernel-config, or verdicts that depend on it are reported as uncertain.

Examples (in the guest, as root, before any policy is loaded):
  imaboot-policygen oracle --kernel-config /etc/imaboot/kernel-config
  imaboot-policygen oracle --kernel 6.1 --lsm apparmor --corpus rules.json

Exit status: 0 all certain verdicts agree, 1 disagreements, 2 unusable input or
the judge could not run (EBUSY, not a policy file, a policy got loaded);
docs/command-line.md.
`

func runOracle(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("oracle")
	var t target
	t.register(fs)
	policy := fs.String("policy", "/sys/kernel/security/ima/policy", "the kernel's IMA policy file")
	corpusFile := fs.String("corpus", "", "JSON list of rules to judge instead of the built-in corpus")
	if code, done := parseFlags(fs, args, oracleUsage, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stderr, "oracle", "unexpected argument %q", fs.Arg(0))
	}
	if t.lsm == "" {
		// The securityfs that holds the policy file also names the LSMs.
		if list, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(*policy)), "lsm")); err == nil {
			t.lsm = strings.TrimSpace(string(list))
		}
	}
	v, cfg, err := t.resolve()
	if err != nil {
		printf(stderr, "imaboot-policygen oracle: %v\n", err)
		return exitUsage
	}
	rules := policygen.OracleCorpus()
	if *corpusFile != "" {
		data, err := readInput(*corpusFile, stdin)
		if err == nil {
			err = json.Unmarshal(data, &rules)
		}
		if err != nil {
			printf(stderr, "imaboot-policygen oracle: corpus %s: %v\n", *corpusFile, err)
			return exitUsage
		}
	}
	verdicts, err := policygen.JudgeRules(*policy, rules)
	if err != nil {
		printf(stderr, "imaboot-policygen oracle: %v\n", err)
		return exitUsage
	}
	agree, disagree, uncertain := 0, 0, 0
	for _, vd := range verdicts {
		p := policygen.Predict(vd.Rule, v, cfg)
		kernel := "accept"
		if !vd.Accepted {
			kernel = "refuse(" + errnoName(vd) + ")"
		}
		predicted := map[bool]string{true: "accept", false: "refuse"}[p.Accept]
		switch {
		case !p.Certain:
			uncertain++
			printf(stdout, "ORACLE UNCERTAIN kernel=%s predicted=%s rule=%q reason=%q\n", kernel, predicted, vd.Rule, p.Reason)
		case p.Accept == vd.Accepted:
			agree++
		default:
			disagree++
			printf(stdout, "ORACLE DISAGREE kernel=%s predicted=%s rule=%q reason=%q\n", kernel, predicted, vd.Rule, p.Reason)
		}
	}
	printf(stdout, "ORACLE SUMMARY kernel=%s rules=%d agree=%d disagree=%d uncertain=%d\n", v, len(verdicts), agree, disagree, uncertain)
	if disagree > 0 {
		return exitFindings
	}
	return exitOK
}

func errnoName(v policygen.Verdict) string {
	if v.Errno != 0 {
		return v.Errno.Error()
	}
	return "short write"
}
