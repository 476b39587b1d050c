package dpkglabel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Root is a directory that every path is resolved inside.
type Root struct {
	dir string
	fd  int
}

// OpenRoot opens dir ("/" for the running system).
func OpenRoot(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", dir, err)
	}
	return &Root{dir: dir, fd: fd}, nil
}

// Close releases the root.
func (r *Root) Close() error { return unix.Close(r.fd) }

// Name is path as a name in messages (the root's directory before it).
func (r *Root) Name(path string) string {
	if r.dir == "/" {
		return path
	}
	return strings.TrimSuffix(r.dir, "/") + path
}

// errNotRegular is returned by openFile for anything but a regular file.
var errNotRegular = errors.New("not a regular file")

// openFile opens path (absolute, as inside the root) for reading. Symlinks
// on the way resolve inside the root, a final symlink is not followed.
func (r *Root) openFile(path string) (*os.File, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NOCTTY | unix.O_NONBLOCK | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(r.fd, strings.TrimPrefix(path, "/"), &how)
	if errors.Is(err, unix.ELOOP) {
		return nil, errNotRegular // the file itself is a symlink
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: r.Name(path), Err: err}
	}
	f := os.NewFile(uintptr(fd), r.Name(path))
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, errNotRegular
	}
	return f, nil
}

// readFile reads a small file inside the root.
func (r *Root) readFile(path string) ([]byte, error) {
	f, err := r.openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// openDir opens the directory path (absolute, as inside the root) as an
// O_PATH descriptor for *at calls; symlinks on the way resolve inside the
// root.
func (r *Root) openDir(path string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	rel := strings.TrimPrefix(path, "/")
	if rel == "" {
		rel = "." // the root itself
	}
	fd, err := unix.Openat2(r.fd, rel, &how)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: r.Name(path), Err: err}
	}
	return fd, nil
}

// exists reports whether path (inside the root) names anything; a final
// symlink is not followed.
func (r *Root) exists(path string) bool {
	_, ok := r.inode(path)
	return ok
}

// inode returns the inode number of path (inside the root, a final
// symlink not followed), false when there is nothing there.
func (r *Root) inode(path string) (uint64, bool) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(r.fd, strings.TrimPrefix(path, "/"), &how)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return 0, false
	}
	return st.Ino, true
}
