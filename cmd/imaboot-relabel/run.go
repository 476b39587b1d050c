package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/imaboot/imaboot/relabel"
)

const (
	exitOK          = 0
	exitFailures    = 1
	exitUsage       = 2
	exitInterrupted = 130
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// common holds the flags both modes share.
type common struct {
	root, progress   string
	exclude, evmXatt listFlag
	crossFS, jsonOut bool
	verbose          bool
	workers          int
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.root, "root", "/", "")
	fs.Var(&c.exclude, "exclude", "")
	fs.Var(&c.evmXatt, "evm-xattr", "")
	fs.BoolVar(&c.crossFS, "cross-filesystems", false, "")
	fs.IntVar(&c.workers, "workers", 0, "")
	fs.BoolVar(&c.jsonOut, "json", false, "")
	fs.StringVar(&c.progress, "progress", "auto", "")
	fs.BoolVar(&c.verbose, "v", false, "")
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && args[0] == "verify" {
		return runVerify(ctx, args[1:], stdout, stderr)
	}
	for _, a := range args {
		if a == "--from-dpkg" || a == "-from-dpkg" {
			return runFromDpkg(args, stdout, stderr)
		}
	}
	return runLabel(ctx, args, stdout, stderr)
}

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parseFlags prints help on stdout, errors on stderr
	return fs
}

// parseFlags parses flags placed before or after the paths ("--" ends flags) and
// returns the paths, or an exit code when the program should stop there.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) ([]string, int, bool) {
	var paths []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil, exitOK, true
		}
		if err != nil {
			fmt.Fprintf(stderr, "see %s --help\n", fs.Name())
			return nil, exitUsage, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return paths, 0, false
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(paths, rest...), 0, false
		}
		paths, args = append(paths, rest[0]), rest[1:]
	}
}

func runLabel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		c                           common
		hash, sign, force, dryRun   bool
		kernelFix, noDpkg           bool
		key, cert, keyID, evm, algo string
		mutable, mutableList        listFlag
	)
	fs := newFlagSet("imaboot-relabel", usageLabel, stderr)
	c.register(fs)
	fs.BoolVar(&hash, "hash", false, "")
	fs.BoolVar(&sign, "sign", false, "")
	fs.StringVar(&key, "key", "", "")
	fs.StringVar(&cert, "cert", "", "")
	fs.StringVar(&keyID, "keyid", "", "")
	fs.StringVar(&evm, "evm", "none", "")
	fs.StringVar(&algo, "algo", "sha256", "")
	fs.Var(&mutable, "mutable", "")
	fs.Var(&mutableList, "mutable-list", "")
	fs.BoolVar(&noDpkg, "no-dpkg", false, "")
	fs.BoolVar(&force, "force", false, "")
	fs.BoolVar(&dryRun, "dry-run", false, "")
	fs.BoolVar(&kernelFix, "kernel-fix", false, "")
	paths, code, stop := parseFlags(fs, args, usageLabel, stdout, stderr)
	if stop {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "imaboot-relabel: "+format+"\n", a...)
		return exitUsage
	}
	if len(paths) == 0 {
		return usageErr("no PATH given (see --help)")
	}
	if hash && sign {
		return usageErr("--hash and --sign exclude each other")
	}
	if !sign && (key != "" || cert != "" || keyID != "") {
		return usageErr("--key, --cert and --keyid need --sign")
	}
	if evm != "none" && evm != "portable" {
		return usageErr("--evm %q: want none or portable", evm)
	}
	if kernelFix && (sign || evm != "none") {
		return usageErr("--kernel-fix labels through the kernel: no --sign or --evm")
	}
	o := relabel.Options{
		Paths: paths, Root: c.root, Exclude: c.exclude, CrossFilesystems: c.crossFS,
		Workers: c.workers, Force: force, DryRun: dryRun, EVMPortable: evm == "portable",
		EVMExtraXattrs: c.evmXatt,
	}
	a, err := relabel.ParseHashAlgo(algo)
	if err != nil {
		return usageErr("--algo: %v", err)
	}
	o.Algo = a
	if sign {
		if o.Signer, err = loadSigner(key, cert, keyID); err != nil {
			return usageErr("%v", err)
		}
	}
	if !kernelFix {
		if o.Mutable, err = relabel.LoadMutable(c.root, relabel.MutableSources{
			Dpkg: !noDpkg, Lists: mutableList, Globs: mutable}); err != nil {
			return usageErr("%v", err)
		}
	}
	c.setup(&o.Progress, stderr)
	var s relabel.Summary
	if kernelFix {
		s, err = relabel.KernelFix(ctx, o)
	} else {
		s, err = relabel.Run(ctx, o)
	}
	endProgress(stderr, o.Progress != nil)
	if err != nil && !errors.Is(err, context.Canceled) {
		return usageErr("%v", err)
	}
	printSummary(stdout, stderr, s, c.jsonOut, o.Mutable)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "imaboot-relabel: interrupted; run again to finish (labeled files are skipped)")
		return exitInterrupted
	case s.Failed > 0:
		return exitFailures
	}
	return exitOK
}

func loadSigner(key, cert, keyID string) (*relabel.Signer, error) {
	if key == "" {
		return nil, errors.New("--sign needs --key")
	}
	if keyID == "" {
		if cert == "" {
			return nil, errors.New("--sign needs --cert (or --keyid)")
		}
		return relabel.LoadSigner(key, cert)
	}
	b, err := hex.DecodeString(keyID)
	if err != nil || len(b) != 4 {
		return nil, fmt.Errorf("--keyid %q: want 8 hex digits", keyID)
	}
	k, err := relabel.LoadPrivateKey(key)
	if err != nil {
		return nil, err
	}
	id, _ := strconv.ParseUint(keyID, 16, 32)
	return relabel.NewSignerWithKeyID(k, uint32(id))
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		c     common
		certs listFlag
	)
	fs := newFlagSet("imaboot-relabel verify", usageVerify, stderr)
	c.register(fs)
	fs.Var(&certs, "cert", "")
	paths, code, stop := parseFlags(fs, args, usageVerify, stdout, stderr)
	if stop {
		return code
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "imaboot-relabel verify: no PATH given (see --help)")
		return exitUsage
	}
	keys := relabel.NewPublicKeys()
	if len(certs) > 0 {
		var err error
		if keys, err = relabel.LoadPublicKeys(certs...); err != nil {
			fmt.Fprintf(stderr, "imaboot-relabel verify: %v\n", err)
			return exitUsage
		}
	}
	o := relabel.VerifyOptions{Paths: paths, Root: c.root, Keys: keys, EVMExtraXattrs: c.evmXatt,
		CrossFilesystems: c.crossFS, Exclude: c.exclude, Workers: c.workers}
	c.setup(&o.Progress, stderr)
	rep, err := relabel.Verify(ctx, o)
	endProgress(stderr, o.Progress != nil)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "imaboot-relabel verify: %v\n", err)
		return exitUsage
	}
	printVerify(stdout, stderr, rep, c.jsonOut)
	switch {
	case err != nil:
		return exitInterrupted
	case rep.Failed > 0:
		return exitFailures
	}
	return exitOK
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
