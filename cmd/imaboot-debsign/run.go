package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/imaboot/imaboot/debsign"
	"github.com/imaboot/imaboot/relabel"
)

const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "keypkg" {
		return runKeypkg(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "mirror" {
		return runMirror(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("imaboot-debsign", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	key := fs.String("key", "", "")
	cert := fs.String("cert", "", "")
	hash := fs.String("hash", "sha256", "")
	out := fs.String("o", "", "")
	repo := fs.String("repo", "", "")
	quiet := fs.Bool("q", false, "")
	if code, done := parse(fs, args, usageSign, stdout, stderr); done {
		return code
	}
	var target string
	switch {
	case *repo != "" && fs.NArg() == 0:
		target = *repo
	case *repo == "" && fs.NArg() == 1:
		target = fs.Arg(0)
	default:
		return usageError(stderr, usageSign, "give one PKG.deb, one DIR, or --repo DIR")
	}
	if *key == "" || *cert == "" {
		return usageError(stderr, usageSign, "--key and --cert are required")
	}
	algo, err := relabel.ParseHashAlgo(*hash)
	if err != nil || (algo != relabel.AlgoSHA256 && algo != relabel.AlgoSHA512) {
		return usageError(stderr, usageSign, fmt.Sprintf("--hash %q: want sha256 or sha512", *hash))
	}
	st, err := os.Stat(target)
	if err != nil {
		return usageError(stderr, usageSign, err.Error())
	}
	if *out != "" && (st.IsDir() || *repo != "") {
		return usageError(stderr, usageSign, "-o takes one package, not a directory")
	}
	signer, err := relabel.LoadSigner(*key, *cert)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
		return exitFailed
	}
	var jobs []debsign.Job
	if st.IsDir() {
		debs, err := debsign.FindDebs(target)
		if err != nil {
			fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
			return exitFailed
		}
		for _, d := range debs {
			jobs = append(jobs, debsign.Job{In: d, Out: d})
		}
	} else {
		o := target
		if *out != "" {
			o = *out
		}
		jobs = []debsign.Job{{In: target, Out: o}}
	}
	progress := stderr
	if *quiet {
		progress = nil
	}
	sum := debsign.SignBatch(jobs, signer, algo, progress)
	if *quiet {
		for _, e := range sum.Errors {
			fmt.Fprintf(stderr, "imaboot-debsign: FAILED %v\n", e)
		}
	}
	fmt.Fprintf(stderr, "imaboot-debsign: %s\n", sum)
	if *repo != "" {
		if err := debsign.RefreshRepo(*repo); err != nil {
			fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stderr, "imaboot-debsign: %s: Packages, Packages.gz, Release regenerated\n", *repo)
	}
	if sum.Failed > 0 {
		return exitFailed
	}
	return exitOK
}

func runKeypkg(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keypkg", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("name", "", "")
	version := fs.String("version", "", "")
	cert := fs.String("cert", "", "")
	ca := fs.String("ca", "", "")
	out := fs.String("o", "", "")
	if code, done := parse(fs, args, usageKeypkg, stdout, stderr); done {
		return code
	}
	if *name == "" || *version == "" || *cert == "" || *out == "" || fs.NArg() != 0 {
		return usageError(stderr, usageKeypkg, "--name, --version, --cert and -o are required")
	}
	c, err := debsign.LoadCert(*cert)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
		return exitFailed
	}
	k := debsign.KeyPackage{Name: *name, Version: *version, Cert: c}
	if *ca != "" {
		caCert, err := debsign.LoadCert(*ca)
		if err != nil {
			fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
			return exitFailed
		}
		k.CA = &caCert
	}
	p, err := debsign.WriteKeyPackage(k, *out)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(stdout, p)
	return exitOK
}

// parse parses the flags; done says the command ends with code (--help, a bad flag).
func parse(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (int, bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitOK, true
	}
	return usageError(stderr, usage, err.Error()), true
}

func usageError(stderr io.Writer, usage, msg string) int {
	fmt.Fprintf(stderr, "imaboot-debsign: %s\n%s", msg, usage)
	return exitUsage
}
