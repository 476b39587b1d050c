package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/imaboot/imaboot/dpkglabel"
)

const usageFromDpkg = `Usage: imaboot-relabel --from-dpkg [--pending] [--root DIR] [flags]
       imaboot-relabel --from-dpkg --install-hooks|--remove-hooks [--root DIR]

Labels the files of installed Debian packages from the IMA signature manifests
their signed .debs carried (imaboot-debsign; dpkg keeps them as
/var/lib/dpkg/info/PKG.imasigs): a file gets its signature only when its content
hashes to the signed digest; a file that differs is reported and not labeled.
Maintainer scripts in /var/lib/dpkg/info get theirs too. No private key is
needed: the kernel verifies the signatures. Packages without a manifest are
reported: under enforcement their files are refused.

Flags:
  --pending          only the packages dpkg unpacked and did not configure yet
                     (what the dpkg hook labels after each dpkg run)
  --root DIR         an offline root (paths are resolved inside it; default /)
  --list-unsigned    list every regular file of the packages without manifest
  --workers N        packages labeled at once (default 2)
  --progress WHEN    a line per package: auto (default: when stderr is a
                     terminal, and always with --pending), always or never
  --install-hooks    install the dpkg hooks in --root: /etc/dpkg/dpkg.cfg.d/imaboot
                     (a post-invoke running --from-dpkg --pending) and the dpkg-deb
                     shim (a local diversion of /usr/bin/dpkg-deb), which labels
                     maintainer scripts before dpkg runs them
  --remove-hooks     remove them (dpkg's own dpkg-deb goes back in place)

Exit status: 0 every manifest applied (packages without manifest are warnings);
1 some file differed from its package's signed content or could not be labeled
(listed); 2 bad usage or setup.
`

func runFromDpkg(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("imaboot-relabel --from-dpkg", usageFromDpkg, stderr)
	var o dpkglabel.Options
	var install, remove, fromDpkg bool
	var progress string
	fs.BoolVar(&fromDpkg, "from-dpkg", true, "")
	fs.BoolVar(&o.Pending, "pending", false, "")
	fs.StringVar(&o.Root, "root", "/", "")
	fs.BoolVar(&o.ListUnsigned, "list-unsigned", false, "")
	fs.IntVar(&o.Workers, "workers", 0, "")
	fs.StringVar(&progress, "progress", "auto", "")
	fs.BoolVar(&install, "install-hooks", false, "")
	fs.BoolVar(&remove, "remove-hooks", false, "")
	rest, code, stop := parseFlags(fs, args, usageFromDpkg, stdout, stderr)
	if stop {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "imaboot-relabel: --from-dpkg takes no paths (got %q); see --help\n", rest[0])
		return exitUsage
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-relabel: --root: %v\n", err)
		return exitUsage
	}
	o.Root = root
	switch {
	case install && remove:
		fmt.Fprintln(stderr, "imaboot-relabel: --install-hooks and --remove-hooks exclude each other")
		return exitUsage
	case install || remove:
		f, what := dpkglabel.InstallHooks, "installed"
		if remove {
			f, what = dpkglabel.RemoveHooks, "removed"
		}
		if err := f(o.Root); err != nil {
			fmt.Fprintf(stderr, "imaboot-relabel: %v\n", err)
			return exitFailures
		}
		fmt.Fprintf(stdout, "imaboot-relabel: dpkg hooks %s in %s (%s, %s)\n", what, o.Root, dpkglabel.HookConfig, dpkglabel.DpkgDeb)
		return exitOK
	}
	switch progress {
	case "always":
		o.Progress = stderr
	case "auto":
		if o.Pending || isTerminal(stderr) {
			o.Progress = stderr
		}
	case "never":
	default:
		fmt.Fprintf(stderr, "imaboot-relabel: --progress %q: want auto, always or never\n", progress)
		return exitUsage
	}
	rep, err := dpkglabel.Run(o)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-relabel: --from-dpkg: %v\n", err)
		return exitUsage
	}
	if o.Progress == nil {
		// Warnings and errors are always said, with or without progress.
		for i := range rep.Packages {
			if p := &rep.Packages[i]; p.NoManifest || len(p.Mismatches)+len(p.Failures) > 0 {
				dpkglabel.PrintPackage(stderr, p)
			}
		}
	}
	if o.Pending && len(rep.Packages) == 0 {
		return exitOK
	}
	fmt.Fprintf(stdout, "imaboot-relabel: --from-dpkg: %d packages (%d without manifest, %d files of theirs unsigned); %d files labeled, %d already labeled, %d missing, %d differ from the signed content, %d failed\n",
		len(rep.Packages), rep.NoManifest, rep.Unsigned, rep.Labeled, rep.Verified, rep.Missing, rep.Mismatched, rep.Failed)
	if !rep.OK() {
		return exitFailures
	}
	return exitOK
}
