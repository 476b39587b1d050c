package initagent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Magic numbers of the file systems an initramfs root can be (statfs f_type).
const (
	ramfsMagic = 0x858458f6
	tmpfsMagic = 0x01021994
)

// movedMounts follow the root into the new root.
var movedMounts = []string{"/dev", "/proc", "/sys", "/run"}

// SwitchRoot makes newRoot the root file system and execs init in it. It
// refuses, before changing anything, unless: it runs as PID 1, the current
// root is ramfs or tmpfs (the initramfs), newRoot is a mount point on
// another device, and init exists and is executable inside newRoot. Then it
// moves /dev, /proc, /sys and /run into newRoot, deletes the initramfs's
// files (never crossing into another mount) so their memory is freed, moves
// newRoot onto /, chroots and execs init with args and env. It returns only
// on failure.
func SwitchRoot(newRoot, init string, args, env []string) error {
	if err := switchRootChecks(newRoot, init); err != nil {
		return err
	}
	for _, m := range movedMounts {
		target := filepath.Join(newRoot, m)
		if err := unix.Mount(m, target, "", unix.MS_MOVE, ""); err != nil {
			// A root without the directory (or a read-only one) cannot take
			// the mount; detach it rather than leave it in the old root.
			_ = unix.Unmount(m, unix.MNT_DETACH)
		}
	}
	if err := unix.Chdir(newRoot); err != nil {
		return fmt.Errorf("chdir %s: %w", newRoot, err)
	}
	var rootSt unix.Stat_t
	if err := unix.Stat("/", &rootSt); err != nil {
		return fmt.Errorf("stat /: %w", err)
	}
	// Best effort: a file that cannot be removed only costs memory.
	_ = deleteTree("/", uint64(rootSt.Dev), newRoot)
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s onto /: %w", newRoot, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", newRoot, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / in the new root: %w", err)
	}
	argv := append([]string{init}, args...)
	return fmt.Errorf("exec %s: %w", init, unix.Exec(init, argv, env))
}

// switchRootChecks are the invariants that make deleting the old root safe.
func switchRootChecks(newRoot, init string) error {
	if pid := os.Getpid(); pid != 1 {
		return fmt.Errorf("switch root: not PID 1 (pid %d); refusing to delete the current root", pid)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs("/", &fs); err != nil {
		return fmt.Errorf("switch root: statfs /: %w", err)
	}
	if fs.Type != ramfsMagic && fs.Type != tmpfsMagic {
		return fmt.Errorf("switch root: current root is not ramfs/tmpfs (f_type %#x); refusing to delete it", fs.Type)
	}
	var rootSt, newSt unix.Stat_t
	if err := unix.Stat("/", &rootSt); err != nil {
		return fmt.Errorf("switch root: stat /: %w", err)
	}
	if err := unix.Stat(newRoot, &newSt); err != nil {
		return fmt.Errorf("switch root: stat %s: %w", newRoot, err)
	}
	if rootSt.Dev == newSt.Dev {
		return fmt.Errorf("switch root: %s is not a mount point on another device", newRoot)
	}
	return checkInitInRoot(newRoot, init)
}

// checkInitInRoot resolves init inside newRoot (absolute symlinks such as
// /sbin/init -> /lib/systemd/systemd are resolved against newRoot, not the
// initramfs) and checks that it is an executable regular file.
func checkInitInRoot(newRoot, init string) error {
	dir, err := unix.Open(newRoot, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("switch root: open %s: %w", newRoot, err)
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, init, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
	if err != nil {
		return fmt.Errorf("switch root: init %s not found in the root file system: %w", init, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("switch root: stat init %s: %w", init, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
		return fmt.Errorf("switch root: init %s in the root file system is not an executable file (mode %#o)", init, st.Mode)
	}
	return nil
}

// deleteTree removes everything under dir that lives on device dev, except
// the directory skip (the new root). It does not follow symlinks and does
// not descend into other mounts.
func deleteTree(dir string, dev uint64, skip string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if p == skip {
			continue
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			errs = append(errs, err)
			continue
		}
		if uint64(st.Dev) != dev {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := deleteTree(p, dev, skip); err != nil {
				errs = append(errs, err)
			}
			if err := unix.Rmdir(p); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := unix.Unlink(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
