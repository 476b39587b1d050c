package main

import (
	"io"
	"strconv"
	"strings"

	"github.com/imaboot/imaboot/internal/atomicfile"
	"github.com/imaboot/imaboot/internal/cli"
	"github.com/imaboot/imaboot/policygen"
)

const generateUsage = `
Usage: imaboot-policygen generate --profile NAME [--kernel VERSION] [--kernel-config FILE]
                                  [--exclude-fs NAME,...] [--owner UID] [--appraisal imasig|hash]
                                  [--fsname] [-o FILE]

Writes the policy of a profile for the target kernel. The output passes
"imaboot-policygen check" for that kernel with no error; its warnings are the
known bypasses a profile leaves on purpose. Profiles (see "profiles"):
  tcb           the kernel's built-in ima_policy=tcb
  appraise_tcb  the kernel's built-in ima_policy=appraise_tcb
  seed          the mission's seed: signed executables and libraries for root, hashes for root's files
  attest        appraise everything executable, measure for remote attestation (keys, critical data)
  strict        signatures for all code (programs, mapped libraries, modules, firmware, kexec)
                of every owner on every file system but the initramfs, tmpfs and memfd
                included; for appliances; it refuses --owner and --appraisal hash

Examples:
  imaboot-policygen generate --profile strict --kernel 6.1 -o /etc/imaboot/ima-policy
  imaboot-policygen generate --profile seed --kernel 6.1 -o /etc/imaboot/ima-policy
  imaboot-policygen generate --profile attest --kernel 6.12 --exclude-fs vfat,overlay
  imaboot-policygen generate --profile appraise_tcb --owner 1000 --appraisal hash

Exit status: 0 written, 1 the output could not be written, 2 unusable input
(docs/command-line.md).
`

func runGenerate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("generate")
	var t target
	t.register(fs)
	profile := fs.String("profile", "", "profile name (required)")
	exclude := fs.String("exclude-fs", "", "comma-separated file systems to neither measure nor appraise, by name (see filesystems)")
	owner := fs.String("owner", "", "limit appraisal to files owned by this uid, and file measurement to this uid")
	appraisal := fs.String("appraisal", "imasig", "imasig (signatures required) or hash (a hash in security.ima is enough)")
	fsname := fs.Bool("fsname", false, "exclude file systems with fsname= instead of fsmagic=")
	out := fs.String("o", "-", "output file, - for standard output")
	if code, done := parseFlags(fs, args, generateUsage, stdout, stderr); done {
		return code
	}
	if *profile == "" {
		return usageError(stderr, "generate", "--profile is required (see imaboot-policygen profiles)")
	}
	if fs.NArg() != 0 {
		return usageError(stderr, "generate", "unexpected argument %q", fs.Arg(0))
	}
	if t.kernel == "" {
		t.kernel = "latest"
	}
	v, cfg, err := t.resolve()
	if err != nil {
		printf(stderr, "imaboot-policygen generate: %v\n", err)
		return exitUsage
	}
	opts := policygen.GenerateOptions{Profile: *profile, Kernel: v, Config: cfg, Appraisal: *appraisal, UseFsname: *fsname}
	if *exclude != "" {
		opts.ExcludeFS = strings.Split(*exclude, ",")
	}
	if *owner != "" {
		n, err := strconv.ParseUint(*owner, 10, 32)
		if err != nil || n == 1<<32-1 {
			printf(stderr, "imaboot-policygen generate: --owner %q: want a decimal uid\n", *owner)
			return exitUsage
		}
		u := uint32(n)
		opts.Owner = &u
	}
	text, err := policygen.Generate(opts)
	if err != nil {
		printf(stderr, "imaboot-policygen %v\n", err)
		return exitUsage
	}
	if *out == "-" {
		io.WriteString(stdout, text)
		return exitOK
	}
	if err := atomicfile.Write(*out, []byte(text), 0o644); err != nil {
		cli.Errorf(stderr, "imaboot-policygen generate", "%v", err)
		return cli.ExitFailed
	}
	return exitOK
}
