package securityfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultRoot is where securityfs is mounted.
const DefaultRoot = "/sys/kernel/security"

// FS is securityfs as this package uses it. The zero value is the real
// kernel: DefaultRoot, open(2)/write(2), /dev/kmsg, /run/imaboot.
type FS struct {
	// Root is the securityfs mount point.
	Root string
	// OpenWriter opens a securityfs file for one write session. nil means
	// open(2) with O_WRONLY and write(2) without Go's short-write checks.
	OpenWriter func(path string) (Writer, error)
	// OpenKernelLog starts following the kernel log from now on. nil means
	// /dev/kmsg, non-blocking.
	OpenKernelLog func() (KernelLog, error)
	// StateDir holds the once-per-boot policy marker; "" means /run/imaboot.
	StateDir string
	// Cmdline is the kernel command line file; "" means /proc/cmdline.
	Cmdline string
	// PrintkBurst is the sysctl that limits how many audit records reach
	// the kernel log per 5 s (kauditd prints through printk_ratelimit, 10 by
	// default: every rule written logs one). "" means
	// /proc/sys/kernel/printk_ratelimit_burst; "-" leaves it alone.
	PrintkBurst string
	// AuditWait bounds the wait for the kernel's audit record after a
	// refused write: kauditd prints it asynchronously. 0 means 300ms.
	AuditWait time.Duration
}

// Writer is one open securityfs file. Write is a single write(2) and
// returns the count the kernel returned, which for the IMA policy file may
// exceed len(p) by one (a rule without a trailing newline).
type Writer interface {
	Write(p []byte) (int, error)
	Close() error
}

// KernelLog yields kernel log messages logged since it was opened.
type KernelLog interface {
	// Read returns the messages logged since the previous Read (or since
	// the log was opened), without blocking.
	Read() ([]string, error)
	Close() error
}

func (fs FS) path(elem ...string) string {
	root := fs.Root
	if root == "" {
		root = DefaultRoot
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

func (fs FS) stateDir() string {
	if fs.StateDir == "" {
		return "/run/imaboot"
	}
	return fs.StateDir
}

func (fs FS) cmdline() string {
	if fs.Cmdline == "" {
		return "/proc/cmdline"
	}
	return fs.Cmdline
}

func (fs FS) printkBurst() string {
	if fs.PrintkBurst == "" {
		return "/proc/sys/kernel/printk_ratelimit_burst"
	}
	return fs.PrintkBurst
}

func (fs FS) auditWait() time.Duration {
	if fs.AuditWait == 0 {
		return 300 * time.Millisecond
	}
	return fs.AuditWait
}

func (fs FS) openWriter(path string) (Writer, error) {
	if fs.OpenWriter != nil {
		return fs.OpenWriter(path)
	}
	return openFD(path)
}

func (fs FS) openKernelLog() (KernelLog, error) {
	if fs.OpenKernelLog != nil {
		return fs.OpenKernelLog()
	}
	return OpenKmsgReader("/dev/kmsg")
}

// fdWriter writes with write(2) directly: os.File.Write panics when the
// kernel returns more than was sent, which the IMA policy file does.
type fdWriter struct {
	fd   int
	path string
}

func openFD(path string) (Writer, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &PathError{Op: "open for writing", Path: path, Err: err}
	}
	return &fdWriter{fd: fd, path: path}, nil
}

func (w *fdWriter) Write(p []byte) (int, error) {
	for {
		n, err := unix.Write(w.fd, p)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return n, err
	}
}

func (w *fdWriter) Close() error { return unix.Close(w.fd) }

// PathError is a failed operation on a securityfs file, keeping the errno.
type PathError struct {
	Op   string
	Path string
	Err  error
}

func (e *PathError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Op, e.Path, errnoText(e.Err))
}

func (e *PathError) Unwrap() error { return e.Err }

// errnoText is "EBUSY (device or resource busy)" for an errno, else the error.
func errnoText(err error) string {
	var errno unix.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return fmt.Sprintf("%s (%s)", name, errno.Error())
		}
	}
	return err.Error()
}
