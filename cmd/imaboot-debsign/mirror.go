package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

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

func runMirror(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mirror", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config := fs.String("config", "", "")
	str := map[string]*string{}
	for _, n := range []string{"upstream", "basedir", "origin", "label", "signing-key", "signing-key-passphrase-file", "key", "cert", "hash", "keypkg-name", "keypkg-version"} {
		str[n] = fs.String(n, "", "")
	}
	lists := map[string]*listFlag{}
	for _, n := range []string{"suites", "components", "architectures", "upstream-keyring"} {
		lists[n] = &listFlag{}
		fs.Var(lists[n], n, "")
	}
	threads := fs.Int("threads", -1, "")
	unverified := fs.Bool("allow-unverified-upstream", false, "")
	unsigned := fs.Bool("publish-unsigned", false, "")
	quiet := fs.Bool("q", false, "")
	if code, done := parse(fs, args, usageMirror, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		return usageError(stderr, usageMirror, "unexpected argument "+fs.Arg(0))
	}
	var c mirror.Config
	if *config != "" {
		var err error
		if c, err = mirror.ReadConfig(*config); err != nil {
			return usageError(stderr, usageMirror, err.Error())
		}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, dst := range map[string]*string{"upstream": &c.Upstream, "basedir": &c.Basedir, "origin": &c.Origin, "label": &c.Label,
		"signing-key": &c.Signingkey, "signing-key-passphrase-file": &c.SigningkeyPasswordFile, "key": &c.Key, "cert": &c.Certificate,
		"hash": &c.Hash, "keypkg-name": &c.KeyPackage, "keypkg-version": &c.KeyPackageVersion} {
		if given[name] {
			*dst = *str[name]
		}
	}
	for name, dst := range map[string]*[]string{"suites": &c.Suites, "components": &c.Components, "architectures": &c.Architectures, "upstream-keyring": &c.UpstreamKeyring} {
		if lists[name].set {
			*dst = lists[name].v
		}
	}
	if given["threads"] {
		c.Threads = *threads
	}
	if given["allow-unverified-upstream"] {
		c.AllowUnverifiedUpstream = *unverified
	}
	if given["publish-unsigned"] {
		c.PublishUnsigned = *unsigned
	}
	progress := stderr
	if *quiet {
		progress = io.Discard
	}
	sum, err := mirror.Run(c, progress)
	for _, w := range sum.Warnings {
		fmt.Fprintf(stderr, "imaboot-debsign mirror: warning: %s\n", w)
	}
	if err != nil {
		var se *mirror.SetupError
		if errors.As(err, &se) {
			fmt.Fprintf(stderr, "imaboot-debsign mirror: %v; nothing published\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "imaboot-debsign mirror: %v\n", err)
		return exitFailed
	}
	if *quiet {
		for _, f := range sum.Failures {
			fmt.Fprintf(stderr, "imaboot-debsign mirror: FAILED %s: %s\n", f.Filename, f.Reason)
		}
	}
	fmt.Fprintf(stderr, "imaboot-debsign mirror: %s\n", sum)
	if len(sum.Failures) > 0 {
		return exitFailed
	}
	return exitOK
}
