package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/imaboot/imaboot/debsign"
	"github.com/imaboot/imaboot/relabel"
)

const (
	exitOK       = 0
	exitFailures = 1
	exitUsage    = 2
)

const usage = `usage: imaboot-debsign --key KEY --cert CERT [options] PACKAGE.deb|DIR...
       imaboot-debsign --key KEY --cert CERT [options] --repo DIR
       imaboot-debsign keypkg --name NAME --version VERSION --cert CERT [-o DIR]

Signs Debian packages for IMA: every regular file of data.tar gets a
signature (the bytes evmctl ima_sign writes) in a manifest that travels in
the package as the control member "imasigs"; dpkg keeps it as
/var/lib/dpkg/info/PKG.imasigs, and imaboot's dpkg hooks label the files
from it when the package is installed (imaboot-relabel --from-dpkg). Not
signed: conffiles and files under /etc, unless executable. Maintainer
scripts are signed too (dpkg executes them). data.tar is copied byte for
byte; signing again replaces the manifest. Packages are signed in place
(or into --out-dir), each written whole or not at all.

  --key FILE      private key, PEM (RSA, or ECDSA P-256/P-384), unencrypted
  --cert FILE     its certificate, PEM or DER: gives the key id the kernel
                  looks the key up by
  --hash ALGO     digest and signature hash: sha256 (default), sha512, ...
  --out-dir DIR   write signed packages there instead of in place
  --repo DIR      a flat apt repository: sign every .deb under DIR in place,
                  then regenerate DIR/Packages, Packages.gz and Release with
                  apt-ftparchive (Debian package apt-utils)
  --jobs N        packages signed at once (default: number of CPUs)
  --progress WHEN a line per package on stderr: auto (a terminal), always, never

keypkg writes NAME-ima-signing-key_VERSION_all.deb into DIR (default .):
it installs CERT (as DER) at /etc/keys/ima/NAME.der, a conffile, where
imaboot-mkinitramfs and the dracut and initramfs-tools hooks read it.

Exit status: 0 all signed, 1 a package failed (named on stderr; it was left
as it was), 2 usage.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "keypkg" {
		return runKeyPkg(args[1:], stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("imaboot-debsign", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	key := fs.String("key", "", "")
	cert := fs.String("cert", "", "")
	hashName := fs.String("hash", "sha256", "")
	outDir := fs.String("out-dir", "", "")
	repo := fs.String("repo", "", "")
	jobs := fs.Int("jobs", 0, "")
	progress := fs.String("progress", "auto", "")
	paths, code, stopHere := parse(fs, args, stdout, stderr)
	if stopHere {
		return code
	}
	switch {
	case *key == "" || *cert == "":
		return usageError(stderr, "--key and --cert are required")
	case *repo != "" && (len(paths) > 0 || *outDir != ""):
		return usageError(stderr, "--repo signs in place: give no other paths and no --out-dir")
	case *repo == "" && len(paths) == 0:
		return usageError(stderr, "no package or directory given")
	}
	algo, err := relabel.ParseHashAlgo(*hashName)
	if err != nil {
		return usageError(stderr, err.Error())
	}
	prog, err := progressWriter(*progress, stderr)
	if err != nil {
		return usageError(stderr, err.Error())
	}
	signer, err := relabel.LoadSigner(*key, *cert)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
		return exitFailures
	}
	if *repo != "" {
		paths = []string{*repo}
	}
	debs, err := debsign.FindDebs(paths)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
		return exitFailures
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
			return exitFailures
		}
	}
	s := debsign.Run(ctx, debs, debsign.RunOptions{
		Options: debsign.Options{Signer: signer, Algo: algo}, OutDir: *outDir, Jobs: *jobs, Progress: prog,
	})
	for _, err := range s.Errors {
		fmt.Fprintf(stderr, "imaboot-debsign: error: %v\n", err)
	}
	fmt.Fprintf(stdout, "imaboot-debsign: %d packages signed, %d failed; %d files signed, %d mutable left unsigned; %.1f MB hashed in %.1f s (key id %08x, %s)\n",
		s.Packages-s.Failed, s.Failed, s.Signed, s.Mutable, float64(s.Bytes)/1e6, s.Elapsed.Seconds(), signer.KeyID, algo)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "imaboot-debsign: interrupted; packages not reached are unchanged")
		return exitFailures
	}
	if s.Failed > 0 {
		return exitFailures
	}
	if *repo != "" {
		if err := debsign.IndexRepo(*repo); err != nil {
			fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
			return exitFailures
		}
		fmt.Fprintf(stdout, "imaboot-debsign: %s: Packages, Packages.gz and Release regenerated\n", *repo)
	}
	return exitOK
}

func runKeyPkg(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("imaboot-debsign keypkg", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var k debsign.KeyPackage
	fs.StringVar(&k.Name, "name", "", "")
	fs.StringVar(&k.Version, "version", "", "")
	fs.StringVar(&k.CertPath, "cert", "", "")
	fs.StringVar(&k.Maintainer, "maintainer", "", "")
	dir := fs.String("o", ".", "")
	rest, code, stopHere := parse(fs, args, stdout, stderr)
	if stopHere {
		return code
	}
	if len(rest) > 0 || k.Name == "" || k.Version == "" || k.CertPath == "" {
		return usageError(stderr, "keypkg needs --name, --version and --cert, and no other argument")
	}
	out, err := k.Build(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-debsign: %v\n", err)
		return exitFailures
	}
	fmt.Fprintf(stdout, "imaboot-debsign: wrote %s\n", out)
	return exitOK
}

// parse parses flags before or after the paths.
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, int, bool) {
	var rest []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil, exitOK, true
		}
		if err != nil {
			return nil, usageError(stderr, err.Error()), true
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, 0, false
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), 0, false
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "imaboot-debsign: %s\nsee imaboot-debsign --help\n", msg)
	return exitUsage
}

func progressWriter(when string, stderr io.Writer) (io.Writer, error) {
	switch when {
	case "always":
		return stderr, nil
	case "never":
		return nil, nil
	case "auto":
		if f, ok := stderr.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				return stderr, nil
			}
		}
		return nil, nil
	}
	return nil, fmt.Errorf("--progress %q: want auto, always or never", when)
}
