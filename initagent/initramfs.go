package initagent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// InitrdRelease is the file systemd (and dracut) put in every initramfs.
const InitrdRelease = "/etc/initrd-release"

// InInitramfs says whether the process runs in an initramfs, as hook mode
// must: the root file system is the kernel's rootfs (ramfs or tmpfs), or
// /etc/initrd-release exists. Otherwise it is a running system, whose
// kernel must not get a second set of keys or a policy from a stray
// "imaboot-init --hook". The string says what was found, for the message.
func InInitramfs() (bool, string) { return inInitramfs("/") }

func inInitramfs(root string) (bool, string) {
	var s unix.Statfs_t
	if err := unix.Statfs(root, &s); err != nil {
		return false, fmt.Sprintf("statfs %s: %v", root, err)
	}
	switch uint32(s.Type) {
	case unix.RAMFS_MAGIC:
		return true, "/ is ramfs"
	case unix.TMPFS_MAGIC:
		return true, "/ is tmpfs"
	}
	if _, err := os.Stat(filepath.Join(root, InitrdRelease)); err == nil {
		return true, InitrdRelease + " exists"
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Sprintf("stat %s: %v", InitrdRelease, err)
	}
	return false, fmt.Sprintf("/ is on %s (magic %#x), not the initramfs's ramfs or tmpfs, and %s does not exist", fsName(s.Type), uint32(s.Type), InitrdRelease)
}

func fsName(magic int64) string {
	switch uint32(magic) {
	case unix.EXT4_SUPER_MAGIC:
		return "ext2/3/4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlay"
	case unix.SQUASHFS_MAGIC:
		return "squashfs"
	case unix.NFS_SUPER_MAGIC:
		return "nfs"
	}
	return "disk"
}
