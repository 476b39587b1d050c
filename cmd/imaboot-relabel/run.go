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

	"github.com/imaboot/imaboot/internal/cli"
	"github.com/imaboot/imaboot/relabel"
)

const prog = "imaboot-relabel"

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// common holds the flags both modes share.
type common struct {
	root, progress   string
	exclude, evmXatt listFlag
	crossFS, jsonOut bool
	verbose, quiet   bool
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
	cli.Verbose(fs, &c.verbose)
	cli.Quiet(fs, &c.quiet)
}

// check refuses bad values of the common flags.
func (c *common) check() error {
	if err := cli.OneOf("--progress", c.progress, "auto", "always", "never"); err != nil {
		return err
	}
	if c.quiet {
		c.progress = "never"
	}
	return cli.Workers(c.workers)
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && args[0] == "verify" {
		return runVerify(ctx, args[1:], stdout, stderr)
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--from-dpkg" || a == "-from-dpkg" {
			return runFromDpkg(args, stdout, stderr)
		}
	}
	return runLabel(ctx, args, stdout, stderr)
}

// labelArgs are the flags of the labeling mode.
type labelArgs struct {
	c                               common
	hash, sign, force, dryRun       bool
	kernelFix, noDpkg, replaceSigs  bool
	key, cert, keyID, evm, hashAlgo string
	mutable, mutableList            listFlag
}

func labelFlags(l *labelArgs) *flag.FlagSet {
	fs := cli.NewFlagSet(prog)
	l.c.register(fs)
	fs.BoolVar(&l.hash, "hash", false, "")
	fs.BoolVar(&l.sign, "sign", false, "")
	fs.StringVar(&l.key, "key", "", "")
	fs.StringVar(&l.cert, "cert", "", "")
	fs.StringVar(&l.keyID, "keyid", "", "")
	fs.StringVar(&l.evm, "evm", "none", "")
	fs.StringVar(&l.hashAlgo, "hash-algo", "sha256", "")
	cli.Alias(fs, "algo", "hash-algo")
	fs.Var(&l.mutable, "mutable", "")
	fs.Var(&l.mutableList, "mutable-list", "")
	fs.BoolVar(&l.noDpkg, "no-dpkg", false, "")
	fs.BoolVar(&l.force, "force", false, "")
	fs.BoolVar(&l.replaceSigs, "replace-signatures", false, "")
	fs.BoolVar(&l.dryRun, "dry-run", false, "")
	fs.BoolVar(&l.kernelFix, "kernel-fix", false, "")
	return fs
}

func verifyFlags(c *common, certs *listFlag) *flag.FlagSet {
	fs := cli.NewFlagSet(prog + " verify")
	c.register(fs)
	fs.Var(certs, "cert", "")
	return fs
}

func runLabel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var l labelArgs
	fs := labelFlags(&l)
	paths, code, stop := cli.Parse(fs, args, usageLabel, stdout, stderr)
	if stop {
		return code
	}
	usageErr := func(format string, a ...any) int { return cli.UsageError(stderr, prog, format, a...) }
	if err := l.c.check(); err != nil {
		return usageErr("%v", err)
	}
	if len(paths) == 0 {
		return usageErr("no PATH given")
	}
	if l.hash && l.sign {
		return usageErr("--hash and --sign exclude each other")
	}
	if !l.sign && (l.key != "" || l.cert != "" || l.keyID != "") {
		return usageErr("--key, --cert and --keyid need --sign")
	}
	if err := cli.OneOf("--evm", l.evm, "none", "portable"); err != nil {
		return usageErr("%v", err)
	}
	if l.kernelFix && (l.sign || l.evm != "none") {
		return usageErr("--kernel-fix labels through the kernel: no --sign or --evm")
	}
	o := relabel.Options{
		Paths: paths, Root: l.c.root, Exclude: l.c.exclude, CrossFilesystems: l.c.crossFS,
		Workers: l.c.workers, Force: l.force, DryRun: l.dryRun, EVMPortable: l.evm == "portable",
		EVMExtraXattrs: l.c.evmXatt, ReplaceSignatures: l.replaceSigs,
	}
	a, err := relabel.ParseHashAlgo(l.hashAlgo)
	if err != nil {
		return usageErr("--hash-algo: %v", err)
	}
	o.Algo = a
	if l.sign {
		if o.Signer, err = loadSigner(l.key, l.cert, l.keyID); err != nil {
			return usageErr("%v", err)
		}
	}
	if !l.kernelFix {
		if o.Mutable, err = relabel.LoadMutable(l.c.root, relabel.MutableSources{
			Dpkg: !l.noDpkg, Lists: l.mutableList, Globs: l.mutable}); err != nil {
			return usageErr("%v", err)
		}
	}
	l.c.setup(&o.Progress, stderr)
	var s relabel.Summary
	if l.kernelFix {
		s, err = relabel.KernelFix(ctx, o)
	} else {
		s, err = relabel.Run(ctx, o)
	}
	endProgress(stderr, o.Progress != nil)
	if err != nil && !errors.Is(err, context.Canceled) {
		return usageErr("%v", err)
	}
	printSummary(stdout, stderr, s, l.c.jsonOut)
	switch {
	case err != nil:
		cli.Errorf(stderr, prog, "interrupted; run again to finish (labeled files are skipped)")
		return cli.ExitInterrupted
	case s.Failed > 0:
		return cli.ExitFailed
	}
	return cli.ExitOK
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
	const vprog = prog + " verify"
	var (
		c     common
		certs listFlag
	)
	fs := verifyFlags(&c, &certs)
	paths, code, stop := cli.Parse(fs, args, usageVerify, stdout, stderr)
	if stop {
		return code
	}
	if err := c.check(); err != nil {
		return cli.UsageError(stderr, vprog, "%v", err)
	}
	if len(paths) == 0 {
		return cli.UsageError(stderr, vprog, "no PATH given")
	}
	keys := relabel.NewPublicKeys()
	if len(certs) > 0 {
		var err error
		if keys, err = relabel.LoadPublicKeys(certs...); err != nil {
			return cli.UsageError(stderr, vprog, "%v", err)
		}
	} else {
		cli.Errorf(stderr, vprog, "no certificate given (--cert): signatures cannot be checked and are reported unknown-key")
	}
	o := relabel.VerifyOptions{Paths: paths, Root: c.root, Keys: keys, EVMExtraXattrs: c.evmXatt,
		CrossFilesystems: c.crossFS, Exclude: c.exclude, Workers: c.workers}
	c.setup(&o.Progress, stderr)
	rep, err := relabel.Verify(ctx, o)
	endProgress(stderr, o.Progress != nil)
	if err != nil && !errors.Is(err, context.Canceled) {
		return cli.UsageError(stderr, vprog, "%v", err)
	}
	printVerify(stdout, rep, c.jsonOut, len(certs) == 0)
	switch {
	case err != nil:
		return cli.ExitInterrupted
	case rep.Failed > 0:
		return cli.ExitFailed
	}
	return cli.ExitOK
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
