package initagent

import (
	"context"
	"errors"
	"fmt"
	"os"
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

// mountAll mounts each entry; EBUSY means someone (the kernel, a hook's
// generator) mounted it first, which is fine.
func mountAll(mounts []mountPoint) (done []string, err error) {
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, 0o755); err != nil {
			return done, fmt.Errorf("mkdir %s: %w", m.target, err)
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
	if k := OpenKmsg(); k != nil {
		a.Log.Kmsg = k
	}
	return strings.Join(done, " "), nil
}
