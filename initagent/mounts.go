package initagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

type mountPoint struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
}

// pseudoMounts are the file systems the agent and the root's init need.
// Order matters: securityfs lives under /sys.
var pseudoMounts = []mountPoint{
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"sysfs", "/sys", "sysfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	{"devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755"},
	{"tmpfs", "/run", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV, "mode=0755"},
	{"securityfs", "/sys/kernel/security", "securityfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
}

// mountAll mounts each entry that is not mounted yet. A target that is
// already a mount point (a generator's init mounted it) is left alone:
// mounting tmpfs again would hide its /run. EBUSY (the same file system
// already there) is fine too.
func mountAll(mounts []mountPoint) (done []string, err error) {
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return done, fmt.Errorf("mkdir %s: %w", m.target, err)
		}
		if isMountPoint(m.target) {
			continue
		}
		err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data)
		if err != nil && !errors.Is(err, unix.EBUSY) {
			return done, fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
		done = append(done, m.target)
	}
	return done, nil
}

func (a *Agent) mountPseudo(ctx context.Context) (string, error) {
	done, err := mountAll(pseudoMounts)
	if err != nil {
		return "", err
	}
	if k := openKmsgWriter(); k != nil {
		a.Log.Kmsg = k
	}
	return strings.Join(done, " "), nil
}

// isMountPoint reports whether dir is on another device than its parent.
func isMountPoint(dir string) bool {
	var st, parent unix.Stat_t
	if unix.Stat(dir, &st) != nil || unix.Stat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}
