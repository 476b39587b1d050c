// Command imaboot-init is the initramfs agent: run by the kernel as /init,
// it mounts the root, loads the integrity keys and policy, and switches to
// the root's init; run by a dracut or initramfs-tools hook (--hook), it
// does the integrity steps on the root the generator mounted. See the
// initagent package for the sequence.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/imaboot/imaboot/initagent"
)

const usage = `Usage: imaboot-init [ARGS...]                 (as /init, PID 1)
       imaboot-init --hook [--root DIR] [--outside-initramfs]   (from a dracut or initramfs-tools hook)

As /init in an initramfs built by imaboot-mkinitramfs (PID 1), it mounts
/proc, /sys, /dev, /run and securityfs, checks that the kernel would enforce
(no ima_appraise= or evm=fix override it honours), loads the kernel modules
listed in /etc/imaboot/modules.load and MODULES=, finds and mounts root=
(UUID=, LABEL=, PARTUUID=, /dev/...), loads the IMA and EVM certificates and
seals their keyrings, loads the EVM master key and EVM key, writes the IMA
policy, proves with an unsigned canary that the kernel refuses it, enables
EVM, raises lockdown, writes /run/imaboot/status.json and switches to the
root's init (/sbin/init, or init=), passing ARGS and the environment on.

With --hook it runs inside another generator's init: it mounts only what is
missing, does the same integrity steps on the root mounted at DIR (default
$NEWROOT, else /sysroot), switches nothing, and exits 0 (go on) or 1 (a step
failed in enforce mode: the hook must stop the boot). It refuses to run
(exit 2, nothing done) unless it is in an initramfs: / is ramfs or tmpfs,
or /etc/initrd-release exists; on a booted system it would load keys and a
policy into the running kernel. --outside-initramfs runs it anyway.

Configuration: /etc/imaboot/imaboot.conf (KEY=value; see the README), after
dracut's /etc/sysconfig/{ima,evm,masterkey} when present.
Kernel command line: root= rootfstype= rootflags= rootdelay= ro rw init=
and the overrides imaboot.mode= imaboot.halt= imaboot.debug=
imaboot.root_timeout=, and imaboot.break_glass=yes: one boot that enforces
nothing (appraise rules left out, loud, measured), to repair a machine whose
enforcement blocks its repair, or to label with ima_appraise=fix evm=fix;
BREAK_GLASS=no or CMDLINE_OVERRIDE=no refuse it.

In enforce mode (the default) a failed step stops the boot before the
switch with one line naming the step and the cause; as /init the machine
halts (it never reboots). See docs/threat-model.md for what it guarantees.

Exit status (not PID 1): 0 done, 1 a step failed in enforce mode, 2 a bad
command line or --hook outside an initramfs; see docs/command-line.md.
`

// Exit statuses, as every imaboot command's (internal/cli, which imports
// package flag: not linked here).
const (
	exitOK     = 0
	exitFailed = 1 // hook: a step failed in enforce mode
	exitUsage  = 2 // a bad command line, or --hook outside an initramfs
)

func main() {
	if os.Getpid() == 1 {
		// As /init, every argument belongs to the root's init.
		initagent.Boot(context.Background(), os.Args[1:])
		return
	}
	o, err := parseArgs(os.Args[1:])
	if err == errHelp {
		fmt.Fprint(os.Stdout, usage)
		os.Exit(exitOK)
	}
	if err != nil {
		usageError("%v", err)
	}
	if !o.hook {
		usageError("not PID 1: run it as /init, or with --hook from a generator's hook")
	}
	// Hook mode changes the running kernel's keyrings and policy: only an
	// initramfs may ask for that.
	if ok, why := initagent.InInitramfs(); !ok && !o.outsideInitramfs {
		fmt.Fprintf(os.Stderr, "imaboot-init: --hook refused: not in an initramfs (%s); nothing done (--outside-initramfs runs it anyway)\n", why)
		os.Exit(exitUsage)
	}
	dir := o.root
	if dir == "" {
		dir = os.Getenv("NEWROOT")
	}
	if dir == "" {
		dir = "/sysroot"
	}
	os.Exit(initagent.Hook(context.Background(), dir))
}

func usageError(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "imaboot-init: "+format+" (see imaboot-init --help)\n", a...)
	os.Exit(exitUsage)
}
