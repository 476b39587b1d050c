// Command imaboot-init is the initramfs agent: run by the kernel as /init,
// it mounts the root, loads the integrity keys and policy, and switches to
// the root's init. See the initagent package for the sequence.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/imaboot/imaboot/initagent"
)

const usage = `usage: imaboot-init [ARGS...]

imaboot-init runs as /init in an initramfs built by imaboot-mkinitramfs
(PID 1). It mounts /proc, /sys, /dev, /run and securityfs, loads the
kernel modules listed in /etc/imaboot/modules.load and MODULES=, finds and
mounts root= (UUID=, LABEL=, PARTUUID=, /dev/...), runs the integrity
steps, writes /run/imaboot/status.json and switches to the root's init
(/sbin/init, or init=), passing ARGS and the environment on.

Configuration: /etc/imaboot/imaboot.conf (KEY=value; see the README).
Kernel command line: root= rootfstype= rootflags= rootdelay= ro rw init=
and the overrides imaboot.mode= imaboot.halt= imaboot.debug=
imaboot.root_timeout=.

In enforce mode (the default) a failed step halts the machine before the
switch with one line naming the step and the cause; it never reboots.
`

func main() {
	if os.Getpid() != 1 {
		if len(os.Args) > 1 && (os.Args[1] == "-h" || os.Args[1] == "--help") {
			fmt.Print(usage)
			return
		}
		fmt.Fprint(os.Stderr, "imaboot-init: not PID 1: it runs as /init in the initramfs\n\n"+usage)
		os.Exit(2)
	}
	initagent.Boot(context.Background(), os.Args[1:])
}
