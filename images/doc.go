// Package images builds initramfs images: newc cpio archives, gzip-compressed,
// reproducible (the same inputs give the same bytes).
//
// Build, in order:
//   - lays out the skeleton: /dev with console and null device nodes (so the
//     kernel can open a console before devtmpfs is mounted), /proc, /sys,
//     /run, /newroot, /etc/imaboot;
//   - installs the init binary as /init (mode 0755);
//   - resolves the requested kernel modules with their dependencies
//     (package kmod) and copies them to /lib/modules/KVER/ under the same
//     relative paths, with a modules.dep for just those, the kernel's
//     modules.builtin, and /etc/imaboot/modules.load naming the modules
//     asked for (the boot agent loads them);
//   - adds the configuration as /etc/imaboot/imaboot.conf and any extra
//     files and directory trees, keeping their permission bits;
//   - writes every entry sorted by path, parents first, with mtime 0,
//     owner 0:0 and inode numbers counted in that order, then a trailer;
//     gzip at a fixed level with an empty header (no name, no time).
package images
