package main

import (
	"io"

	"github.com/imaboot/imaboot/dpkglabel"
	"github.com/imaboot/imaboot/internal/cli"
)

const usageFromDpkg = `Usage: imaboot-relabel --from-dpkg [--pending] [--root DIR] [--list-unsigned] [--workers N] [-v] [-q]

Writes the IMA signatures that signed .debs carry (/var/lib/dpkg/info/PKG.imasigs)
onto the files of the installed packages and onto their maintainer scripts, each
only once the file's content hashes to the signed digest. No private key is used.

  --pending        only packages unpacked and not yet configured (the dpkg
                   post-invoke hook, /etc/dpkg/dpkg.cfg.d/imaboot: with the
                   dpkg-deb shim, a check that names what is left unlabeled);
                   with an EVM HMAC key loaded, a file with no label yet is
                   replaced by a labeled copy (group imaboot-label)
  --root DIR       an offline root; every path resolves inside DIR. When DIR is
                   not the root of its file system, a file with more hard links
                   than names found under DIR is not labeled (an error line): its
                   inode may be reached from outside DIR
  --list-unsigned  print "unsigned PATH (PKG)" for every regular file no manifest signs
  --workers N      packages labeled at once (default: one per CPU)
  -v, --verbose    one "package" line per package
  -q, --quiet      no "progress: N/TOTAL packages" lines on stderr (printed
                   without --pending)

Output lines start with mismatch, error, no-manifest, unsigned, package; the last
is "summary: ...". Exit status: 0 when every signed file was labeled (packages
without a manifest are warnings), 1 when a file did not match its signature or
could not be read (dpkg then stops: run this again after fixing, then
dpkg --configure -a), 2 when the root or dpkg's database cannot be used or
for a usage error (nothing labeled); see docs/command-line.md.
`

func runFromDpkg(args []string, stdout, stderr io.Writer) int {
	var o dpkglabel.Options
	var fromDpkg, quiet bool
	fs := cli.NewFlagSet(prog)
	fs.BoolVar(&fromDpkg, "from-dpkg", false, "")
	fs.BoolVar(&o.Pending, "pending", false, "")
	fs.StringVar(&o.Root, "root", "/", "")
	fs.BoolVar(&o.ListUnsigned, "list-unsigned", false, "")
	fs.IntVar(&o.Workers, "workers", 0, "")
	cli.Verbose(fs, &o.Verbose)
	cli.Quiet(fs, &quiet)
	paths, code, stop := cli.Parse(fs, args, usageFromDpkg, stdout, stderr)
	if stop {
		return code
	}
	if len(paths) > 0 {
		return cli.UsageError(stderr, prog, "--from-dpkg takes no PATH (got %q)", paths[0])
	}
	if err := cli.Workers(o.Workers); err != nil {
		return cli.UsageError(stderr, prog, "%v", err)
	}
	o.Out = stdout
	if !o.Pending && !quiet {
		o.Progress = stderr
	}
	sum, err := dpkglabel.Run(o)
	if err != nil {
		// Nothing was labeled: the root or dpkg's database cannot be used.
		cli.Errorf(stderr, prog, "%v", err)
		return cli.ExitUsage
	}
	if sum.Mismatches > 0 {
		return cli.ExitFailed
	}
	return cli.ExitOK
}
