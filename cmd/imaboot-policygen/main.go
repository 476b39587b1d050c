// Command imaboot-policygen checks IMA policies against the grammar of a
// kernel version, generates policies from profiles and explains them.
// Run "imaboot-policygen --help" for the subcommands.
package main

import (
	"io"
	"os"

	"github.com/imaboot/imaboot/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses (internal/cli, the same for every imaboot command).
const (
	exitOK       = cli.ExitOK     // no errors (warnings allowed)
	exitFindings = cli.ExitFailed // the policy has errors; oracle: kernel and checker disagree
	exitUsage    = cli.ExitUsage  // unusable input: bad flags, unreadable file, bad version or config
)

type command struct {
	name, summary string
	run           func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"check", "check policy files against a kernel version's grammar", runCheck},
		{"generate", "write a policy from a profile", runGenerate},
		{"explain", "describe a policy rule by rule in plain words", runExplain},
		{"profiles", "list the profiles of generate", runProfiles},
		{"filesystems", "list the file system names and magics generate and check know", runFilesystems},
		{"corpus", "print the oracle corpus of single rules (JSON)", runCorpus},
		{"oracle", "ask the running kernel about every corpus rule and compare with check (VM test)", runOracle},
	}
}

const topUsage = `imaboot-policygen: the IMA policy language, checked per kernel version.

Usage:
  imaboot-policygen COMMAND [flags] [args]

Commands:
%s
Examples:
  imaboot-policygen check --kernel 6.1 /etc/imaboot/ima-policy
  imaboot-policygen check --kernel 6.12.48+deb13-cloud-amd64 --kernel-config /boot/config-6.12.48+deb13-cloud-amd64 --format json policy
  imaboot-policygen generate --profile seed --kernel 6.1 -o ima-policy
  imaboot-policygen explain ima-policy

Run "imaboot-policygen COMMAND --help" for the flags of a command.
Exit status: 0 no errors, 1 errors found (oracle: disagreements), 2 unusable
input; the same rule for every imaboot command (docs/command-line.md).
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	list := ""
	for _, c := range commands() {
		list += "  " + pad(c.name, 12) + c.summary + "\n"
	}
	if len(args) == 0 {
		return cli.UsageError(stderr, "imaboot-policygen", "no command (check, generate, explain, ...)")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printf(stdout, topUsage, list)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	return cli.UsageError(stderr, "imaboot-policygen", "unknown command %q", args[0])
}

func pad(s string, n int) string {
	for len(s) < n {
		s += " "
	}
	return s
}
