// Command imaboot-mkinitramfs writes an initramfs whose /init is
// imaboot-init, with kernel modules and their dependencies, configuration,
// certificates and policy. See the images package for the layout.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imaboot/imaboot/images"
	"github.com/imaboot/imaboot/internal/cli"
)

const usage = `Usage: imaboot-mkinitramfs -o OUT --init PATH [flags]

Writes a gzip-compressed newc cpio initramfs. The same inputs always give
the same bytes (entries sorted, times and owners zeroed).

Before writing, it reads the image as imaboot-init will at boot and refuses
(naming the file, line and reason, writing nothing) what would stop the
boot: a configuration line the agent's parser rejects (an unknown key, a bad
value such as MODE=enforcing, a malformed line); an IMA policy (IMA_POLICY,
default /etc/imaboot/ima-policy) that is missing or that imaboot-policygen
check finds errors in for the target kernel (--kernel-root's version and
boot/config-KVER); no certificate under IMA_KEYS_DIR when one must load
(enforce mode). With KEYS_FROM_ROOT=yes the policy and certificates are on
the root and not checked. Warnings do not stop it; they are printed as the
agent logs them at boot: the policy's warnings one per line, its known
bypasses summed up in one line (imaboot-policygen check lists each).

Contents: /init (mode 0755), /dev with console and null nodes, /proc,
/sys, /run, /newroot, the modules asked for with every module they need
under /lib/modules/KVER/ (same paths as in the kernel package) with a
modules.dep for just those and the kernel's modules.builtin,
/etc/imaboot/modules.load naming the modules asked for (imaboot-init loads
them at boot), /etc/imaboot/imaboot.conf, and any extra files and trees.

Flags:
  -o OUT             the initramfs to write (required); replaced only once
                     complete
  --init PATH        the binary installed as /init, normally imaboot-init
                     (required)
  --no-init          no /init: an image to be appended to another (nothing
                     is checked)
  --kernel-root DIR  an extracted kernel package (dpkg -x linux-image-….deb
                     DIR) or / for the running system; its module tree is
                     DIR/lib/modules/KVER or DIR/usr/lib/modules/KVER
  --kver VER         kernel version (module tree) to use; default: the only
                     one under --kernel-root
  --module NAME      a module to include and load at boot, with its
                     dependencies (from modules.dep, else from each module's
                     depends=); repeatable, comma lists allowed; '-' and '_'
                     are the same; built-in modules are accepted
  --decompress-modules
                     store .ko.xz/.ko.gz modules decompressed, for kernels
                     without MODULE_DECOMPRESS; done anyway when the kernel
                     package's boot/config-KVER says so
  --config FILE      installed as /etc/imaboot/imaboot.conf (a regular file)
  --file SRC:DST     add host file SRC at absolute path DST, keeping its
                     permission bits (symlinks are kept as symlinks);
                     repeatable
  --dir SRC:DST      add host directory SRC and everything under it at DST;
                     repeatable
  --no-compress      write the bare cpio archive instead of gzip
  --no-check         write the image even when the configuration or policy
                     would stop the boot (to test the agent's failure path)
  -q, --quiet        print nothing on success
  -h, --help         this text

Examples:
  imaboot-mkinitramfs -o initrd.img --init bin/imaboot-init \
      --kernel-root .cache/kernels/bookworm/root --module virtio_pci,virtio_blk \
      --config imaboot.conf --file certs/ima.der:/etc/keys/ima/ima.der
  imaboot-mkinitramfs -o initrd.img --init bin/imaboot-init --kernel-root / \
      --kver "$(uname -r)" --module sha512_generic --dir policy:/etc/imaboot/policy

On success one line says what was written. Exit status: 0 written; 1 the
image could not be written (disk full, no permission); 2 unusable input (a
missing module or file, a configuration or policy that would stop the boot,
a bad flag), nothing written. The same rule for every imaboot command:
docs/command-line.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const prog = "imaboot-mkinitramfs"

func run(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet(prog)
	var (
		out, kver, config      string
		s                      images.Spec
		modules, files         listFlag
		dirs                   listFlag
		quiet, noInit, noCheck bool
	)
	fs.StringVar(&out, "o", "", "")
	fs.StringVar(&s.Init, "init", "", "")
	fs.BoolVar(&noInit, "no-init", false, "")
	fs.StringVar(&s.KernelRoot, "kernel-root", "", "")
	fs.StringVar(&kver, "kver", "", "")
	fs.Var(&modules, "module", "")
	fs.BoolVar(&s.DecompressModules, "decompress-modules", false, "")
	fs.StringVar(&config, "config", "", "")
	fs.Var(&files, "file", "")
	fs.Var(&dirs, "dir", "")
	fs.BoolVar(&s.NoCompress, "no-compress", false, "")
	fs.BoolVar(&noCheck, "no-check", false, "")
	cli.Quiet(fs, &quiet)
	operands, code, stop := cli.Parse(fs, args, usage, stdout, stderr)
	if stop {
		return code
	}
	usageError := func(format string, a ...any) int { return cli.UsageError(stderr, prog, format, a...) }
	if len(operands) > 0 {
		return usageError("unexpected argument %q", operands[0])
	}
	if out == "" {
		return usageError("-o OUT is required")
	}
	switch {
	case s.Init == "" && !noInit:
		return usageError("--init is required: the image needs an /init to boot (--no-init for an image that is appended to another)")
	case s.Init != "" && noInit:
		return usageError("--init and --no-init exclude each other")
	}
	s.KernelVersion, s.Config = kver, config
	for _, m := range modules {
		for _, n := range strings.Split(m, ",") {
			if n = strings.TrimSpace(n); n != "" {
				s.Modules = append(s.Modules, n)
			}
		}
	}
	if len(s.Modules) > 0 && s.KernelRoot == "" {
		return usageError("--module needs --kernel-root (use / for the running system)")
	}
	if kver != "" && s.KernelRoot == "" {
		return usageError("--kver needs --kernel-root")
	}
	for _, f := range files {
		m, err := parseMapping(f)
		if err != nil {
			return usageError("--file %v", err)
		}
		s.Files = append(s.Files, m)
	}
	for _, d := range dirs {
		m, err := parseMapping(d)
		if err != nil {
			return usageError("--dir %v", err)
		}
		s.Dirs = append(s.Dirs, m)
	}
	// Everything is found and checked before anything is written.
	im, err := images.Assemble(s)
	if err != nil {
		cli.Errorf(stderr, prog, "%v; nothing written", err)
		return cli.ExitUsage
	}
	if !noInit && !noCheck {
		if bad := checkBoot(im, s, stderr); bad {
			cli.Errorf(stderr, prog, "%s not written: the image would not boot (--no-check writes it anyway)", out)
			return cli.ExitUsage
		}
	}
	rep, err := im.WriteFile(out)
	if err != nil {
		cli.Errorf(stderr, prog, "%v", err)
		return cli.ExitFailed
	}
	if !quiet {
		fmt.Fprintf(stdout, "wrote %s: %d entries, %d bytes%s\n", out, len(rep.Entries), rep.Bytes, moduleSummary(rep))
	}
	return cli.ExitOK
}

// checkBoot prints what in the image would stop the boot (and warnings)
// and reports whether anything would.
func checkBoot(im *images.Image, s images.Spec, stderr io.Writer) bool {
	k, err := images.KernelCheck(s.KernelRoot, im.KernelVersion())
	if err != nil {
		cli.Errorf(stderr, prog, "%v", err)
		return true
	}
	errs, warnings := im.CheckBoot(k)
	for _, w := range warnings {
		cli.Errorf(stderr, prog, "warning: %v", w)
	}
	for _, e := range errs {
		cli.Errorf(stderr, prog, "%v", e)
	}
	return len(errs) > 0
}

// parseMapping splits SRC:DST at the last ":/", so that SRC may hold colons.
func parseMapping(v string) (images.Mapping, error) {
	i := strings.LastIndex(v, ":/")
	if i <= 0 {
		return images.Mapping{}, fmt.Errorf("%q: want SRC:DST with DST an absolute path in the image", v)
	}
	return images.Mapping{Src: v[:i], Dst: v[i+1:]}, nil
}

func moduleSummary(rep *images.Report) string {
	if rep.KernelVersion == "" {
		return ""
	}
	var names []string
	for _, m := range rep.Modules {
		n := m.Name
		if m.Builtin {
			n += "(built-in)"
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return ", kernel " + rep.KernelVersion + ", no modules"
	}
	return ", kernel " + rep.KernelVersion + ", modules in load order: " + strings.Join(names, " ")
}
