package policygen

import (
	"sort"
	"strings"
)

// Filesystem names a file system type and its superblock magic, the value
// fsmagic= compares (include/uapi/linux/magic.h and the file systems'
// sources).
type Filesystem struct {
	Name   string // the type name, as in /proc/filesystems and fsname=
	Magic  uint64
	Pseudo bool // holds no files a package manager installs
	// Writable marks a pseudo file system that still holds whatever its
	// users write, programs included (tmpfs, ramfs, hugetlbfs).
	Writable bool
	// Kind is "network" or "media" (removable media), for the bypass
	// report's wording; empty for the rest.
	Kind    string
	Aliases []string
}

// HoldsCode reports whether a program of someone's choice can be stored
// and run there: every disk, image, network and FUSE file system, and the
// writable pseudo ones. The other pseudo file systems hold what the kernel
// produces (proc, sysfs) or kernel objects (bpf, configfs, efivarfs, whose
// contents a driver checks or makes): no program of one's choice.
func (fs Filesystem) HoldsCode() bool { return !fs.Pseudo || fs.Writable }

// filesystems is ordered by name.
var filesystems = []Filesystem{
	{Name: "9p", Magic: 0x01021997, Kind: "network"},
	{Name: "adfs", Magic: 0xadf5},
	{Name: "affs", Magic: 0xadff},
	{Name: "afs", Magic: 0x6b414653, Kind: "network"},
	{Name: "anon_inodefs", Magic: 0x09041934, Pseudo: true},
	{Name: "apparmorfs", Magic: 0x5a3c69f0, Pseudo: true},
	{Name: "autofs", Magic: 0x0187, Pseudo: true},
	{Name: "bcachefs", Magic: 0xca451a4e},
	{Name: "bdev", Magic: 0x62646576, Pseudo: true},
	{Name: "binder", Magic: 0x6c6f6f70, Pseudo: true},
	{Name: "binfmt_misc", Magic: 0x42494e4d, Pseudo: true},
	{Name: "bpf", Magic: 0xcafe4a11, Pseudo: true},
	{Name: "btrfs", Magic: 0x9123683e},
	{Name: "ceph", Magic: 0x00c36400, Kind: "network"},
	{Name: "cgroup", Magic: 0x27e0eb, Pseudo: true},
	{Name: "cgroup2", Magic: 0x63677270, Pseudo: true},
	{Name: "cifs", Magic: 0xff534d42, Kind: "network", Aliases: []string{"smb"}},
	{Name: "coda", Magic: 0x73757245, Kind: "network"},
	{Name: "configfs", Magic: 0x62656570, Pseudo: true},
	{Name: "cramfs", Magic: 0x28cd3d45},
	{Name: "debugfs", Magic: 0x64626720, Pseudo: true},
	{Name: "devpts", Magic: 0x1cd1, Pseudo: true},
	{Name: "ecryptfs", Magic: 0xf15f},
	{Name: "efivarfs", Magic: 0xde5e81e4, Pseudo: true},
	{Name: "efs", Magic: 0x414a53},
	{Name: "erofs", Magic: 0xe0f5e1e2},
	{Name: "exfat", Magic: 0x2011bab0, Kind: "media"},
	{Name: "ext4", Magic: 0xef53, Aliases: []string{"ext2", "ext3"}},
	{Name: "f2fs", Magic: 0xf2f52010},
	{Name: "fuse", Magic: 0x65735546, Aliases: []string{"fuseblk"}},
	{Name: "hostfs", Magic: 0x00c0ffee, Kind: "network"},
	{Name: "hpfs", Magic: 0xf995e849},
	{Name: "hugetlbfs", Magic: 0x958458f6, Pseudo: true, Writable: true},
	{Name: "iso9660", Magic: 0x9660, Kind: "media", Aliases: []string{"isofs"}},
	{Name: "jffs2", Magic: 0x72b6},
	{Name: "minix", Magic: 0x137f},
	{Name: "mqueue", Magic: 0x19800202, Pseudo: true},
	{Name: "msdos", Magic: 0x4d44, Kind: "media", Aliases: []string{"vfat", "fat"}},
	{Name: "nfs", Magic: 0x6969, Kind: "network", Aliases: []string{"nfs4"}},
	{Name: "nilfs2", Magic: 0x3434},
	{Name: "nsfs", Magic: 0x6e736673, Pseudo: true},
	{Name: "ocfs2", Magic: 0x7461636f},
	{Name: "openpromfs", Magic: 0x9fa1, Pseudo: true},
	{Name: "overlay", Magic: 0x794c7630, Aliases: []string{"overlayfs"}},
	{Name: "pipefs", Magic: 0x50495045, Pseudo: true},
	{Name: "proc", Magic: 0x9fa0, Pseudo: true, Aliases: []string{"procfs"}},
	{Name: "pstore", Magic: 0x6165676c, Pseudo: true},
	{Name: "qnx4", Magic: 0x002f},
	{Name: "qnx6", Magic: 0x68191122},
	{Name: "ramfs", Magic: 0x858458f6, Pseudo: true, Writable: true},
	{Name: "reiserfs", Magic: 0x52654973},
	{Name: "resctrl", Magic: 0x7655821, Pseudo: true},
	{Name: "securityfs", Magic: 0x73636673, Pseudo: true},
	{Name: "selinuxfs", Magic: 0xf97cff8c, Pseudo: true},
	{Name: "smackfs", Magic: 0x43415d53, Pseudo: true},
	{Name: "smb2", Magic: 0xfe534d42, Kind: "network"},
	{Name: "sockfs", Magic: 0x534f434b, Pseudo: true},
	{Name: "squashfs", Magic: 0x73717368},
	{Name: "sysfs", Magic: 0x62656572, Pseudo: true},
	{Name: "tmpfs", Magic: 0x01021994, Pseudo: true, Writable: true, Aliases: []string{"shmem", "devtmpfs"}},
	{Name: "tracefs", Magic: 0x74726163, Pseudo: true},
	{Name: "udf", Magic: 0x15013346, Kind: "media"},
	{Name: "usbdevfs", Magic: 0x9fa2, Pseudo: true},
	{Name: "xenfs", Magic: 0xabba1974, Pseudo: true},
	{Name: "xfs", Magic: 0x58465342},
	{Name: "zonefs", Magic: 0x5a4f4653},
}

// Filesystems returns the name → magic table, ordered by name.
func Filesystems() []Filesystem {
	out := append([]Filesystem(nil), filesystems...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FilesystemByName finds a file system by its type name or an alias
// (ext2 and ext3 share ext4's magic, vfat is msdos, devtmpfs is tmpfs).
func FilesystemByName(name string) (Filesystem, bool) {
	n := strings.ToLower(name)
	for _, fs := range filesystems {
		if fs.Name == n {
			return fs, true
		}
		for _, a := range fs.Aliases {
			if a == n {
				return fs, true
			}
		}
	}
	return Filesystem{}, false
}

// FilesystemByMagic finds a file system by its magic.
func FilesystemByMagic(magic uint64) (Filesystem, bool) {
	for _, fs := range filesystems {
		if fs.Magic == magic {
			return fs, true
		}
	}
	return Filesystem{}, false
}
