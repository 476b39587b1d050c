// Package blockdev finds the root device that the kernel's root= names,
// without udev or blkid, as the boot agent needs in an initramfs.
//
// In order:
//   - ParseSpec reads a root= value: /dev/NAME, UUID=, LABEL=, PARTUUID=
//     (with an optional /PARTNROFF=n), PARTLABEL=, MAJOR:MINOR or the
//     kernel's hexadecimal device number.
//   - Find lists the block devices under a sysfs root (class/block), reads
//     each one's superblock (Probe) and, for a partition, the parent disk's
//     GPT or MBR entry, and returns the one device that matches.
//   - Wait repeats Find until the device appears or the time is up, and
//     then names the devices it saw.
//   - FSTypeOf tells which file system a device holds, for mounting root
//     without rootfstype=, and says clearly when it holds none.
//
// Every kernel path is rooted in Options (SysRoot, DevRoot), so the whole
// lookup runs on the host against image files and a fake sysfs tree.
package blockdev
