// Package cli holds the conventions every imaboot command follows, so they
// read the same to a user (docs/command-line.md is their side of it):
//   - one meaning per exit status (ExitOK, ExitFailed, ExitUsage,
//     ExitInterrupted), bad input found before anything is changed;
//   - a usage error is one line on stderr that names the program and says
//     what is wrong (UsageError), never a usage dump; --help prints the usage
//     on stdout, once;
//   - flags may come before or after operands, "--" ends them (Parse);
//   - an option has one spelling everywhere; older spellings stay as
//     aliases (Alias).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses of every imaboot command.
const (
	// ExitOK: done, every item handled (warnings allowed).
	ExitOK = 0
	// ExitFailed: the run went through but some items failed, and each is
	// listed (files not labeled, packages not signed, a policy with errors,
	// PCRs that would not unseal); for a command with one output, it could
	// not be made.
	ExitFailed = 1
	// ExitUsage: unusable input or setup (a bad flag, an unreadable or
	// invalid input file, a key that does not match its certificate, a
	// missing device or tool), found before anything was changed.
	ExitUsage = 2
	// ExitInterrupted: stopped by SIGINT or SIGTERM; what was done is kept.
	ExitInterrupted = 130
)

// Doc is where the conventions are documented for users; every --help
// points to it.
const Doc = "docs/command-line.md"

// UsageError prints "PROG: WHAT (see PROG --help)" on one line and returns
// ExitUsage.
func UsageError(stderr io.Writer, prog, format string, a ...any) int {
	fmt.Fprintf(stderr, "%s: %s (see %s --help)\n", prog, oneLine(fmt.Sprintf(format, a...)), prog)
	return ExitUsage
}

// Errorf prints "PROG: WHAT" on stderr.
func Errorf(stderr io.Writer, prog, format string, a ...any) {
	fmt.Fprintf(stderr, "%s: %s\n", prog, fmt.Sprintf(format, a...))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// NewFlagSet makes a flag set that prints nothing itself: Parse reports.
func NewFlagSet(prog string) *flag.FlagSet {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// Parse parses flags placed before or after the operands ("--" ends the
// flags) and returns the operands. When the command must stop there it
// returns done and the exit status: usage on stdout for -h/--help
// (ExitOK), one line on stderr for a bad flag (ExitUsage).
func Parse(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (operands []string, code int, done bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil, ExitOK, true
		}
		if err != nil {
			return nil, UsageError(stderr, fs.Name(), "%s", FlagError(err)), true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return operands, 0, false
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(operands, rest...), 0, false
		}
		operands, args = append(operands, rest[0]), rest[1:]
	}
}

// FlagError rewords package flag's messages ("unknown option --x"); other
// errors read as they are.
func FlagError(err error) string {
	s := err.Error()
	if n, ok := strings.CutPrefix(s, "flag provided but not defined: "); ok {
		return "unknown option " + dashes(n)
	}
	if n, ok := strings.CutPrefix(s, "flag needs an argument: "); ok {
		return "option " + dashes(n) + " needs a value"
	}
	return s
}

// dashes writes a long option with two dashes, as the help does.
func dashes(n string) string {
	name := strings.TrimLeft(n, "-")
	if len(name) > 1 {
		return "--" + name
	}
	return "-" + name
}

// Alias makes old another name of the already defined flag name.
func Alias(fs *flag.FlagSet, old, name string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("cli.Alias: no flag " + name)
	}
	fs.Var(f.Value, old, "alias of --"+name)
}

// Quiet defines -q and --quiet.
func Quiet(fs *flag.FlagSet, p *bool) {
	fs.BoolVar(p, "quiet", false, "")
	Alias(fs, "q", "quiet")
}

// Verbose defines -v and --verbose.
func Verbose(fs *flag.FlagSet, p *bool) {
	fs.BoolVar(p, "verbose", false, "")
	Alias(fs, "v", "verbose")
}

// OneOf checks an option's value against the allowed ones.
func OneOf(option, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return fmt.Errorf("%s %q: want %s", option, value, orList(allowed))
}

func orList(v []string) string {
	switch len(v) {
	case 0:
		return "nothing"
	case 1:
		return v[0]
	}
	return strings.Join(v[:len(v)-1], ", ") + " or " + v[len(v)-1]
}

// Workers checks a --workers value: 0 means the default, negative is an
// error.
func Workers(n int) error {
	if n < 0 {
		return fmt.Errorf("--workers %d: want a number of workers, or 0 for one per CPU", n)
	}
	return nil
}
