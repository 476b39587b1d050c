// Package initagent is the boot sequence of imaboot-init, the agent that runs
// as /init in the initramfs.
//
// Boot does, in order:
//   - mounts /proc, /sys, /dev, /run and securityfs (EBUSY: already mounted);
//   - reads /etc/imaboot/imaboot.conf and applies the kernel command line's
//     overrides: the allow-listed imaboot.* ones, init= and rootdelay=
//     (config.go);
//   - loads the configured kernel modules, dependencies first, with
//     finit_module so an IMA MODULE_CHECK rule can appraise them;
//   - finds the root device named by root= (waiting for it), mounts it;
//   - runs the integrity steps (certificates, master key, EVM, IMA policy:
//     each one function and one line in Agent.steps, which also shows what
//     each step hands to the next);
//   - writes /run/imaboot/status.json, then switches root with safety checks
//     and execs the root's init with its arguments and environment.
//
// Failure policy: in enforce mode any failed step stops the boot before the
// switch with one line naming the step and the cause, and the machine halts
// (it never reboots in a loop); in permissive mode a failed integrity step is
// a warning. Steps without which there is nothing to switch into (mounting
// the root, for one) stop the boot in both modes.
package initagent
