package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/imaboot/imaboot/debsign"
	"github.com/imaboot/imaboot/internal/cli"
	"github.com/imaboot/imaboot/relabel"
)

const prog = "imaboot-debsign"

// signArgs are the flags of signing.
type signArgs struct {
	key, cert, hashAlgo, out, repo string
	quiet                          bool
}

func signFlags(a *signArgs) *flag.FlagSet {
	fs := cli.NewFlagSet(prog)
	fs.StringVar(&a.key, "key", "", "")
	fs.StringVar(&a.cert, "cert", "", "")
	fs.StringVar(&a.hashAlgo, "hash-algo", "sha256", "")
	cli.Alias(fs, "hash", "hash-algo")
	fs.StringVar(&a.out, "o", "", "")
	fs.StringVar(&a.repo, "repo", "", "")
	cli.Quiet(fs, &a.quiet)
	return fs
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "keypkg" {
		return runKeypkg(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "mirror" {
		return runMirror(args[1:], stdout, stderr)
	}
	var a signArgs
	fs := signFlags(&a)
	operands, code, done := cli.Parse(fs, args, usageSign, stdout, stderr)
	if done {
		return code
	}
	usageError := func(format string, v ...any) int { return cli.UsageError(stderr, prog, format, v...) }
	var target string
	switch {
	case a.repo != "" && len(operands) == 0:
		target = a.repo
	case a.repo == "" && len(operands) == 1:
		target = operands[0]
	default:
		return usageError("give one PKG.deb, one DIR, or --repo DIR")
	}
	if a.key == "" || a.cert == "" {
		return usageError("--key and --cert are required")
	}
	algo, err := relabel.ParseHashAlgo(a.hashAlgo)
	if err != nil || (algo != relabel.AlgoSHA256 && algo != relabel.AlgoSHA512) {
		return usageError("--hash-algo %q: want sha256 or sha512", a.hashAlgo)
	}
	st, err := os.Stat(target)
	if err != nil {
		return usageError("%v", err)
	}
	if a.out != "" && (st.IsDir() || a.repo != "") {
		return usageError("-o takes one package, not a directory")
	}
	signer, err := relabel.LoadSigner(a.key, a.cert)
	if err != nil {
		return usageError("%v", err)
	}
	var jobs []debsign.Job
	var bad []error
	if st.IsDir() {
		debs, skipped, err := debsign.FindDebs(target)
		if err != nil {
			return usageError("%v", err)
		}
		for _, d := range debs {
			jobs = append(jobs, debsign.Job{In: d, Out: d})
		}
		bad = skipped
	} else {
		// A package named through a symlink is signed where it is: the
		// symlink stays a symlink.
		in, err := filepath.EvalSymlinks(target)
		if err != nil {
			return usageError("%v", err)
		}
		o := in
		if a.out != "" {
			o = a.out
		}
		jobs = []debsign.Job{{In: in, Out: o}}
	}
	progress := stderr
	if a.quiet {
		progress = nil
	}
	sum := debsign.SignBatch(jobs, signer, algo, progress)
	for _, e := range bad {
		cli.Errorf(stderr, prog, "FAILED %v", e)
	}
	sum.Failed += len(bad)
	if a.quiet {
		for _, e := range sum.Errors {
			cli.Errorf(stderr, prog, "FAILED %v", e)
		}
	}
	for _, w := range sum.Warnings {
		cli.Errorf(stderr, prog, "warning: %s", w)
	}
	cli.Errorf(stderr, prog, "%s", sum)
	if a.repo != "" {
		if err := debsign.RefreshRepo(a.repo); err != nil {
			cli.Errorf(stderr, prog, "%v", err)
			return cli.ExitFailed
		}
		cli.Errorf(stderr, prog, "%s: Packages, Packages.gz, Release regenerated", a.repo)
	}
	if sum.Failed > 0 {
		return cli.ExitFailed
	}
	return cli.ExitOK
}

func runKeypkg(args []string, stdout, stderr io.Writer) int {
	const kprog = prog + " keypkg"
	fs := cli.NewFlagSet(kprog)
	name := fs.String("name", "", "")
	version := fs.String("version", "", "")
	cert := fs.String("cert", "", "")
	ca := fs.String("ca", "", "")
	out := fs.String("o", "", "")
	operands, code, done := cli.Parse(fs, args, usageKeypkg, stdout, stderr)
	if done {
		return code
	}
	if *name == "" || *version == "" || *cert == "" || *out == "" || len(operands) != 0 {
		return cli.UsageError(stderr, kprog, "--name, --version, --cert and -o are required, and nothing else")
	}
	c, err := debsign.LoadCert(*cert)
	if err != nil {
		return cli.UsageError(stderr, kprog, "%v", err)
	}
	k := debsign.KeyPackage{Name: *name, Version: *version, Cert: c}
	if *ca != "" {
		caCert, err := debsign.LoadCert(*ca)
		if err != nil {
			return cli.UsageError(stderr, kprog, "%v", err)
		}
		k.CA = &caCert
	}
	p, err := debsign.WriteKeyPackage(k, *out)
	if errors.Is(err, debsign.ErrKeyPackage) {
		return cli.UsageError(stderr, kprog, "%v", err)
	}
	if err != nil {
		cli.Errorf(stderr, kprog, "%v", err)
		return cli.ExitFailed
	}
	fmt.Fprintln(stdout, p)
	return cli.ExitOK
}
