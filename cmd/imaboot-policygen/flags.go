package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imaboot/imaboot/internal/cli"
	"github.com/imaboot/imaboot/policygen"
	"golang.org/x/sys/unix"
)

func printf(w io.Writer, format string, a ...any) { fmt.Fprintf(w, format, a...) }

// newFlags makes the flag set of a command; it prints nothing itself.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// helpText is a command's usage and examples, then its flags.
func helpText(fs *flag.FlagSet, usage string) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\nFlags:\n", strings.TrimSpace(usage))
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// parseFlags parses args; it returns (exit status, done) when the caller
// must stop: help shown on stdout, or a bad flag said in one line.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (int, bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(stdout, helpText(fs, usage))
		return exitOK, true
	}
	if err != nil {
		return usageError(stderr, fs.Name(), "%s", cli.FlagError(err)), true
	}
	return 0, false
}

// usageError says what is wrong with a command's arguments in one line.
func usageError(stderr io.Writer, command, format string, a ...any) int {
	return cli.UsageError(stderr, "imaboot-policygen "+command, format, a...)
}

// target holds --kernel, --kernel-config and --lsm.
type target struct {
	kernel, config, lsm string
}

func (t *target) register(fs *flag.FlagSet) {
	fs.StringVar(&t.kernel, "kernel", "", "target kernel: a release like 6.1, 6.12.48+deb13-cloud-amd64, or latest (default: the running kernel)")
	fs.StringVar(&t.config, "kernel-config", "", "the target kernel's build configuration (a /boot/config-* file); without it, verdicts that depend on it are warnings")
	fs.StringVar(&t.lsm, "lsm", "", "the active LSM (apparmor, selinux, smack, none) or the content of /sys/kernel/security/lsm; default: from --kernel-config")
}

func (t *target) resolve() (policygen.KernelVersion, *policygen.KernelConfig, error) {
	release := t.kernel
	if release == "" {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return policygen.KernelVersion{}, nil, fmt.Errorf("uname: %w", err)
		}
		release = unix.ByteSliceToString(u.Release[:])
	}
	v, err := policygen.ParseKernelVersion(release)
	if err != nil {
		return v, nil, err
	}
	var cfg *policygen.KernelConfig
	if t.config != "" {
		f, err := os.Open(t.config)
		if err != nil {
			return v, nil, err
		}
		defer f.Close()
		cfg, err = policygen.ParseKernelConfig(f)
		if err != nil {
			return v, nil, fmt.Errorf("%s: %w", t.config, err)
		}
	}
	if t.lsm != "" {
		if cfg == nil {
			cfg = &policygen.KernelConfig{}
		}
		cfg.ActiveLSM = policygen.ActiveLSMFromList(t.lsm)
		if t.lsm == "none" {
			cfg.ActiveLSM = "none"
		}
	}
	return v, cfg, nil
}

// readInput reads a file, or standard input for "-".
func readInput(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}
