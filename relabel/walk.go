package relabel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// pseudoFS are file systems whose files are not installed software: never labeled.
var pseudoFS = map[int64]string{
	unix.PROC_SUPER_MAGIC:    "proc",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.DEVPTS_SUPER_MAGIC:  "devpts",
	0x62656570:               "configfs",
	0x65735543:               "fusectl",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.CGROUP_SUPER_MAGIC:  "cgroup",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2",
	unix.PSTOREFS_MAGIC:      "pstore",
	unix.BPF_FS_MAGIC:        "bpf",
	unix.SELINUX_MAGIC:       "selinuxfs",
	unix.SMACK_MAGIC:         "smackfs",
	unix.EFIVARFS_MAGIC:      "efivarfs",
	0x19800202:               "mqueue",
	unix.HUGETLBFS_MAGIC:     "hugetlbfs",
	unix.BINFMTFS_MAGIC:      "binfmt_misc",
	unix.NSFS_MAGIC:          "nsfs",
	unix.AUTOFS_SUPER_MAGIC:  "autofs",
	unix.SOCKFS_MAGIC:        "sockfs",
	unix.PIPEFS_MAGIC:        "pipefs",
	unix.ANON_INODE_FS_MAGIC: "anon_inodefs",
	unix.DEVMEM_MAGIC:        "devmem",
}

// pseudoFSNameOf names the pseudo file system fd is on, or "".
func pseudoFSNameOf(fd int, path string) (string, error) {
	var s unix.Statfs_t
	if err := unix.Fstatfs(fd, &s); err != nil {
		return "", fmt.Errorf("statfs %s: %w", path, err)
	}
	return pseudoFS[int64(s.Type)], nil
}

// walkItem is one regular file found by the walker: a name in an open
// directory, or a file named on the command line, already open.
type walkItem struct {
	dir  *dirHandle // holds name; nil when file is set
	name string
	file *os.File // a PATH that is a regular file
	// fileNoatime: file was opened with O_NOATIME
	fileNoatime bool
	path        string // for messages: the PATH given, then names joined to it
	rel         string // path inside the target root, "/etc/passwd"
	size        int64
}

// open opens the item's file for reading. A name is opened in its
// directory without following a symlink or crossing anything: no path
// component is ever resolved again. It reports whether O_NOATIME was used.
func (it *walkItem) open() (*os.File, bool, error) {
	if it.file != nil {
		f := it.file
		it.file = nil
		return f, it.fileNoatime, nil
	}
	defer it.dir.release()
	fd, noatime, err := openReadable(func(flags int) (int, error) {
		return openBeneath(it.dir.fd, it.name, flags)
	})
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: it.path, Err: err}
	}
	return os.NewFile(uintptr(fd), it.path), noatime, nil
}

// discard releases what the item holds when no worker opens it.
func (it *walkItem) discard() {
	if it.file != nil {
		it.file.Close()
	}
	if it.dir != nil {
		it.dir.release()
	}
}

// dirHandle is an open directory shared by the walker and the workers that
// open files in it; the last one to release it closes it.
type dirHandle struct {
	fd   int
	refs atomic.Int32
}

func newDirHandle(fd int) *dirHandle {
	d := &dirHandle{fd: fd}
	d.refs.Store(1)
	return d
}

func (d *dirHandle) hold() { d.refs.Add(1) }

func (d *dirHandle) release() {
	if d.refs.Add(-1) == 0 {
		unix.Close(d.fd)
	}
}

const readFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NOCTTY | unix.O_NONBLOCK | unix.O_CLOEXEC

// openReadable opens with O_NOATIME, which keeps atime as it was, and
// without it when that is not allowed (it needs ownership or CAP_FOWNER).
func openReadable(open func(flags int) (int, error)) (int, bool, error) {
	fd, err := open(readFlags | unix.O_NOATIME)
	if errors.Is(err, unix.EPERM) {
		fd, err = open(readFlags)
		return fd, false, err
	}
	return fd, err == nil, err
}

// openat2Missing is set once the kernel answered ENOSYS (before 5.6).
var openat2Missing atomic.Bool

// openBeneath opens one name (never a path) in the directory dfd, following
// no symlink. Without openat2, openat with O_NOFOLLOW is as strict for a
// single name (only its own last component could be a link).
func openBeneath(dfd int, name string, flags int) (int, error) {
	if strings.Contains(name, "/") || name == ".." || name == "." || name == "" {
		return -1, fmt.Errorf("%q is not a name in its directory: %w", name, unix.EINVAL)
	}
	if !openat2Missing.Load() {
		how := unix.OpenHow{Flags: uint64(flags | unix.O_NOFOLLOW),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		for try := 0; ; try++ {
			fd, err := unix.Openat2(dfd, name, &how)
			if (errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN)) && try < 100 {
				continue
			}
			if !errors.Is(err, unix.ENOSYS) {
				return fd, err
			}
			openat2Missing.Store(true)
			break
		}
	}
	return unix.Openat(dfd, name, flags|unix.O_NOFOLLOW, 0)
}

// walker lists regular files under the given paths, streaming them to a
// channel. It holds every directory open while it lists it and finds each
// entry by name in it (fstatat, openat2), so a directory renamed or swapped
// for a symlink during the walk is never followed out of PATH.
type walker struct {
	root      string // target root, absolute and clean
	oneFS     bool
	excludes  []string
	skipped   func(path, why string)
	walkError func(path string, err error)
	buf       []byte // getdents buffer
}

// inRoot maps a real path to its path inside the target root.
func (w *walker) inRoot(p string) string {
	if w.root == "/" {
		return p
	}
	r, err := filepath.Rel(w.root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return p
	}
	return "/" + strings.TrimPrefix(r, ".")
}

func (w *walker) excluded(p, rel string) bool {
	for _, pat := range w.excludes {
		if matchPathPattern(pat, p) || (rel != p && matchPathPattern(pat, rel)) {
			return true
		}
	}
	return false
}

// matchPathPattern: a pattern without '/' matches a base name; one with '/' matches the
// whole path; without glob characters a pattern also matches everything under it.
func matchPathPattern(pat, p string) bool {
	if !strings.Contains(pat, "/") {
		ok, _ := filepath.Match(pat, filepath.Base(p))
		return ok
	}
	pat = filepath.Clean(pat)
	if ok, _ := filepath.Match(pat, p); ok {
		return true
	}
	return !strings.ContainsAny(pat, "*?[") && strings.HasPrefix(p, pat+"/")
}

// walk sends every regular file under paths to out, in name order. It stops
// when ctx is done.
func (w *walker) walk(ctx context.Context, paths []string, out chan<- walkItem) {
	w.buf = make([]byte, 64<<10)
	for _, p := range paths {
		if !w.walkPath(ctx, p, out) {
			return
		}
	}
}

// walkPath starts at one PATH. A symlink given as PATH is followed, once
// (as find -H does); nothing under it is.
func (w *walker) walkPath(ctx context.Context, p string, out chan<- walkItem) bool {
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		w.walkError(p, fmt.Errorf("open: %w", err))
		return true
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		w.walkError(p, fmt.Errorf("stat: %w", err))
		return true
	}
	if name, err := pseudoFSNameOf(fd, p); err == nil && name != "" {
		w.skipped(p, "pseudo file system "+name)
		return true
	}
	rel := w.inRoot(p)
	if w.excluded(p, rel) {
		w.skipped(p, "excluded")
		return true
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		f, noatime, err := openNamed(p, &st)
		if err != nil {
			w.walkError(p, err)
			return true
		}
		select {
		case out <- walkItem{file: f, fileNoatime: noatime, path: p, rel: rel, size: st.Size}:
			return true
		case <-ctx.Done():
			f.Close()
			return false
		}
	case unix.S_IFDIR:
		dfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			w.walkError(p, fmt.Errorf("open directory: %w", err))
			return true
		}
		return w.dir(ctx, newDirHandle(dfd), p, st.Dev, out)
	default:
		w.skipped(p, "special file")
		return true
	}
}

// openNamed opens a regular file named on the command line for reading and
// checks that it is the file st describes (the name is resolved a second
// time: it must not have been replaced in between).
func openNamed(p string, st *unix.Stat_t) (*os.File, bool, error) {
	fd, noatime, err := openReadable(func(flags int) (int, error) {
		return unix.Open(p, flags&^unix.O_NOFOLLOW, 0)
	})
	if err != nil {
		return nil, false, fmt.Errorf("open: %w", err)
	}
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		unix.Close(fd)
		return nil, false, fmt.Errorf("replaced while it was opened; not labeled: %w", ErrChanged)
	}
	return os.NewFile(uintptr(fd), p), noatime, nil
}

// dir walks the open directory d (path p), releasing it when done.
func (w *walker) dir(ctx context.Context, d *dirHandle, p string, dev uint64, out chan<- walkItem) bool {
	defer d.release()
	names, err := w.readNames(d.fd)
	if err != nil {
		w.walkError(p, fmt.Errorf("read directory: %w", err))
	}
	for _, name := range names {
		if ctx.Err() != nil {
			return false
		}
		c := filepath.Join(p, name)
		var st unix.Stat_t
		if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.walkError(c, fmt.Errorf("stat: %w", err))
			}
			continue
		}
		rel := w.inRoot(c)
		if w.excluded(c, rel) {
			w.skipped(c, "excluded")
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			if st.Dev != dev && w.oneFS {
				w.skipped(c, "other file system") // a file bind-mounted here
				continue
			}
			d.hold()
			select {
			case out <- walkItem{dir: d, name: name, path: c, rel: rel, size: st.Size}:
			case <-ctx.Done():
				d.release()
				return false
			}
		case unix.S_IFDIR:
			if !w.subdir(ctx, d, name, c, &st, dev, out) {
				return false
			}
		case unix.S_IFLNK:
			w.skipped(c, "symlink")
		default:
			w.skipped(c, "special file")
		}
	}
	return true
}

// subdir opens the directory name of d, which fstatat described as st, and
// walks it. It must still be that directory once open (same device and
// inode): one renamed or swapped in between is reported, never followed.
func (w *walker) subdir(ctx context.Context, d *dirHandle, name, c string, st *unix.Stat_t, dev uint64, out chan<- walkItem) bool {
	if st.Dev != dev && w.oneFS {
		w.skipped(c, "other file system")
		return true
	}
	fd, err := openBeneath(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			err = fmt.Errorf("replaced while the tree was walked (%v); not followed: %w", err, ErrChanged)
		} else {
			err = fmt.Errorf("open directory: %w", err)
		}
		w.walkError(c, err)
		return true
	}
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		unix.Close(fd)
		w.walkError(c, fmt.Errorf("replaced while the tree was walked; not followed: %w", ErrChanged))
		return true
	}
	if st.Dev != dev {
		if name, err := pseudoFSNameOf(fd, c); err != nil || name != "" {
			unix.Close(fd)
			w.skipped(c, "pseudo file system "+name)
			return true
		}
	}
	return w.dir(ctx, newDirHandle(fd), c, st.Dev, out) // its own device: mounts below it are checked once
}

// readNames lists a directory with getdents on its descriptor, sorted.
// A read error keeps the names read before it.
func (w *walker) readNames(fd int) ([]string, error) {
	var names []string
	for {
		n, err := unix.Getdents(fd, w.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			sort.Strings(names)
			return names, err
		}
		if n <= 0 {
			break
		}
		_, _, names = unix.ParseDirent(w.buf[:n], -1, names)
	}
	sort.Strings(names)
	return names, nil
}
