// Package atomicfile writes a file so that a reader (or a crash) sees the
// old content or the whole new one, never half of it, and so that nobody
// else can get in between:
//  1. the target's folder is opened once; everything after happens in it
//     by name (a folder renamed meanwhile takes the file with it, a symlink
//     swapped in for it is never followed);
//  2. a temporary file with an unpredictable name is created there with
//     O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600: a file or symlink planted at
//     any name cannot be written through or reused;
//  3. the final mode and owner (the process's user and group) are set on
//     the open file, before any content is visible under the final name;
//  4. the file is written and fsynced, renamed over the target, and the
//     folder fsynced, so the rename survives a crash.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// File is a new file being written; Commit puts it in place, Abort (or a
// failed Commit) removes it.
type File struct {
	f      *os.File
	dir    *os.File
	tmp    string // name in dir
	name   string // final name in dir
	path   string // for messages
	closed bool
}

// Create starts writing path with the given permission bits.
func Create(path string, mode os.FileMode) (*File, error) {
	dir, err := os.OpenFile(filepath.Dir(path), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("write %s: open its folder: %w", path, err)
	}
	name := filepath.Base(path)
	var fd int
	var tmp string
	for attempt := 0; ; attempt++ {
		var rnd [12]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			dir.Close()
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		tmp = "." + name + "." + hex.EncodeToString(rnd[:]) + ".tmp"
		fd, err = unix.Openat(int(dir.Fd()), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EEXIST) || attempt == 9 {
			dir.Close()
			return nil, fmt.Errorf("write %s: create a temporary file: %w", path, err)
		}
	}
	a := &File{f: os.NewFile(uintptr(fd), filepath.Join(filepath.Dir(path), tmp)), dir: dir, tmp: tmp, name: name, path: path}
	// The owner first: a chown clears set-id bits a chmod would set.
	if err := unix.Fchown(fd, os.Geteuid(), os.Getegid()); err != nil {
		a.Abort()
		return nil, fmt.Errorf("write %s: set owner: %w", path, err)
	}
	if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil {
		a.Abort()
		return nil, fmt.Errorf("write %s: set mode %#o: %w", path, mode.Perm(), err)
	}
	return a, nil
}

// Write writes to the temporary file.
func (a *File) Write(p []byte) (int, error) { return a.f.Write(p) }

// Name is the temporary file's path.
func (a *File) Name() string { return a.f.Name() }

// Commit syncs the file, renames it over the target and syncs the folder.
// On failure the temporary file is removed and the target left as it was.
func (a *File) Commit() error {
	if a.closed {
		return fmt.Errorf("write %s: already committed or aborted", a.path)
	}
	err := a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(int(a.dir.Fd()), a.tmp, int(a.dir.Fd()), a.name)
	}
	if err != nil {
		unix.Unlinkat(int(a.dir.Fd()), a.tmp, 0)
		a.dir.Close()
		a.closed = true
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	err = a.dir.Sync()
	a.dir.Close()
	a.closed = true
	if err != nil {
		return fmt.Errorf("write %s: sync its folder: %w", a.path, err)
	}
	return nil
}

// Abort removes the temporary file; it does nothing after Commit.
func (a *File) Abort() {
	if a.closed {
		return
	}
	a.f.Close()
	unix.Unlinkat(int(a.dir.Fd()), a.tmp, 0)
	a.dir.Close()
	a.closed = true
}

// Write replaces path with data, with permission bits mode.
func Write(path string, data []byte, mode os.FileMode) error {
	return WriteFrom(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFrom replaces path with what fill writes.
func WriteFrom(path string, mode os.FileMode, fill func(io.Writer) error) error {
	a, err := Create(path, mode)
	if err != nil {
		return err
	}
	if err := fill(a); err != nil {
		a.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return a.Commit()
}
