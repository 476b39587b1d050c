package main

import (
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/imaboot/imaboot/internal/cli"
	"github.com/imaboot/imaboot/mirror"
)

// listFlag is a flag holding a list ("a,b" or "a b"); set means given.
type listFlag struct {
	v   []string
	set bool
}

func (l *listFlag) String() string { return strings.Join(l.v, ",") }
func (l *listFlag) Set(s string) error {
	l.v, l.set = append(l.v, mirror.SplitList(s)...), true
	return nil
}

const mprog = prog + " mirror"

func runMirror(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(mprog)
	config := fs.String("config", "", "")
	str := map[string]*string{}
	for _, n := range []string{"upstream", "basedir", "origin", "label", "signing-key", "signing-key-passphrase-file", "key", "cert", "hash-algo", "keypkg-name", "keypkg-version"} {
		str[n] = fs.String(n, "", "")
	}
	cli.Alias(fs, "hash", "hash-algo")
	lists := map[string]*listFlag{}
	for _, n := range []string{"suites", "components", "architectures", "upstream-keyring"} {
		lists[n] = &listFlag{}
		fs.Var(lists[n], n, "")
	}
	workers := fs.Int("workers", 0, "")
	cli.Alias(fs, "threads", "workers")
	unverified := fs.Bool("allow-unverified-upstream", false, "")
	unsigned := fs.Bool("publish-unsigned", false, "")
	var quiet bool
	cli.Quiet(fs, &quiet)
	operands, code, done := cli.Parse(fs, args, usageMirror, stdout, stderr)
	if done {
		return code
	}
	if len(operands) != 0 {
		return cli.UsageError(stderr, mprog, "unexpected argument %q", operands[0])
	}
	var c mirror.Config
	if *config != "" {
		var err error
		if c, err = mirror.ReadConfig(*config); err != nil {
			return cli.UsageError(stderr, mprog, "%v", err)
		}
	}
	given := map[string]bool{}
	older := map[string]string{"hash": "hash-algo", "threads": "workers"}
	fs.Visit(func(f *flag.Flag) {
		if name, ok := older[f.Name]; ok {
			given[name] = true
			return
		}
		given[f.Name] = true
	})
	for name, dst := range map[string]*string{"upstream": &c.Upstream, "basedir": &c.Basedir, "origin": &c.Origin, "label": &c.Label,
		"signing-key": &c.Signingkey, "signing-key-passphrase-file": &c.SigningkeyPasswordFile, "key": &c.Key, "cert": &c.Certificate,
		"hash-algo": &c.Hash, "keypkg-name": &c.KeyPackage, "keypkg-version": &c.KeyPackageVersion} {
		if given[name] {
			*dst = *str[name]
		}
	}
	for name, dst := range map[string]*[]string{"suites": &c.Suites, "components": &c.Components, "architectures": &c.Architectures, "upstream-keyring": &c.UpstreamKeyring} {
		if lists[name].set {
			*dst = lists[name].v
		}
	}
	if given["workers"] {
		if err := cli.Workers(*workers); err != nil {
			return cli.UsageError(stderr, mprog, "%v", err)
		}
		c.Workers = *workers
	}
	if given["allow-unverified-upstream"] {
		c.AllowUnverifiedUpstream = *unverified
	}
	if given["publish-unsigned"] {
		c.PublishUnsigned = *unsigned
	}
	progress := stderr
	if quiet {
		progress = io.Discard
	}
	sum, err := mirror.Run(c, progress)
	for _, w := range sum.Warnings {
		cli.Errorf(stderr, mprog, "warning: %s", w)
	}
	if err != nil {
		var se *mirror.SetupError
		switch {
		case errors.As(err, &se):
			cli.Errorf(stderr, mprog, "%v; nothing published", err)
			return cli.ExitUsage
		case sum.Changed:
			cli.Errorf(stderr, mprog, "%v (after the new dists/ was switched in)", err)
		default:
			cli.Errorf(stderr, mprog, "%v; the new dists/ was not switched in", err)
		}
		return cli.ExitFailed
	}
	if quiet {
		for _, f := range sum.Failures {
			cli.Errorf(stderr, mprog, "FAILED %s: %s", f.Filename, f.Reason)
		}
	}
	cli.Errorf(stderr, mprog, "%s", sum)
	if len(sum.Failures) > 0 {
		return cli.ExitFailed
	}
	return cli.ExitOK
}
