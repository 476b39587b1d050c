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

const usage = `usage: imaboot-init [ARGS...]                 (as /init, PID 1)
       imaboot-init --hook [--root DIR]         (from a dracut or initramfs-tools hook)

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
failed in enforce mode: the hook must stop the boot).

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
`

func main() {
	if os.Getpid() == 1 {
		// As /init, every argument belongs to the root's init.
		initagent.Boot(context.Background(), os.Args[1:])
		return
	}
	hook, root, err := parseArgs(os.Args[1:])
	if err == errHelp {
		fmt.Fprint(os.Stderr, usage)
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n%s", err, usage)
		os.Exit(2)
	}
	if !hook {
		fmt.Fprint(os.Stderr, "imaboot-init: not PID 1: run it as /init, or with --hook from a generator's hook\n\n"+usage)
		os.Exit(2)
	}
	dir := root
	if dir == "" {
		dir = os.Getenv("NEWROOT")
	}
	if dir == "" {
		dir = "/sysroot"
	}
	os.Exit(initagent.Hook(context.Background(), dir))
}
