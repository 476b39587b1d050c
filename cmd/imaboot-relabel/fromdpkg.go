package main

import (
	"fmt"
	"io"

	"github.com/imaboot/imaboot/dpkglabel"
)

const usageFromDpkg = `usage: imaboot-relabel --from-dpkg [--pending] [--root DIR] [--list-unsigned] [--workers N] [-v] [-q]

Writes the IMA signatures that signed .debs carry (/var/lib/dpkg/info/PKG.imasigs)
onto the files of the installed packages and onto their maintainer scripts, each
only once the file's content hashes to the signed digest. No private key is used.

  --pending        only packages unpacked and not yet configured (the dpkg
                   post-invoke hook, /etc/dpkg/dpkg.cfg.d/imaboot: with the
                   dpkg-deb shim, a check that names what is left unlabeled);
                   with an EVM HMAC key loaded, a file with no label yet is
                   replaced by a labeled copy (group imaboot-label)
  --root DIR       an offline root; every path resolves inside DIR
  --list-unsigned  print "unsigned PATH (PKG)" for every regular file no manifest signs
  --workers N      packages labeled at once (default: one per CPU)
  -v               one "package" line per package
  -q               no "progress: N/TOTAL packages" lines on stderr (printed
                   without --pending)

Output lines start with mismatch, error, no-manifest, unsigned, package; the last
is "summary: ...". Exit status: 0 when every signed file was labeled (packages
without a manifest are warnings), 1 when a file did not match its signature or
could not be read (dpkg then stops: run this again after fixing, then
dpkg --configure -a), 2 for a usage error.
`

func runFromDpkg(args []string, stdout, stderr io.Writer) int {
	var o dpkglabel.Options
	var fromDpkg, quiet bool
	fs := newFlagSet("imaboot-relabel", usageFromDpkg, stderr)
	fs.BoolVar(&fromDpkg, "from-dpkg", false, "")
	fs.BoolVar(&o.Pending, "pending", false, "")
	fs.StringVar(&o.Root, "root", "/", "")
	fs.BoolVar(&o.ListUnsigned, "list-unsigned", false, "")
	fs.IntVar(&o.Workers, "workers", 0, "")
	fs.BoolVar(&o.Verbose, "v", false, "")
	fs.BoolVar(&quiet, "q", false, "")
	paths, code, stop := parseFlags(fs, args, usageFromDpkg, stdout, stderr)
	if stop {
		return code
	}
	if len(paths) > 0 {
		fmt.Fprintf(stderr, "imaboot-relabel: --from-dpkg takes no PATH (got %q)\n", paths[0])
		return exitUsage
	}
	o.Out = stdout
	if !o.Pending && !quiet {
		o.Progress = stderr
	}
	sum, err := dpkglabel.Run(o)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-relabel: %v\n", err)
		return exitFailures
	}
	if sum.Mismatches > 0 {
		return exitFailures
	}
	return exitOK
}
