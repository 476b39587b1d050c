package initagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/imaboot/imaboot/blockdev"
	"golang.org/x/sys/unix"
)

// mountRoot finds root= (waiting for it), and mounts it on NewRoot with
// rootfstype=, rootflags= and ro/rw.
func (a *Agent) mountRoot(ctx context.Context) (string, error) {
	spec := a.Cmdline.Root()
	if spec.Device == "" {
		return "", errors.New("no root= on the kernel command line")
	}
	a.Log.Debugf("waiting up to %v for root device %s", a.Config.RootTimeout, spec.Device)
	dev, err := blockdev.Wait(ctx, spec.Device, blockdev.Options{Debug: a.Log.Debugf}, a.Config.RootTimeout, 50*time.Millisecond)
	if err != nil {
		return "", err
	}
	types := spec.FSTypes
	if len(types) == 0 {
		t, err := blockdev.FSTypeOf(dev)
		if err != nil {
			return "", err
		}
		types = []string{t}
	}
	var flags uintptr
	mode := "rw"
	if spec.ReadOnly {
		flags |= unix.MS_RDONLY
		mode = "ro"
	}
	if err := os.MkdirAll(a.NewRoot, 0o755); err != nil {
		return "", err
	}
	var errs []string
	for _, t := range types {
		err := unix.Mount(dev, a.NewRoot, t, flags, spec.Flags)
		if err == nil {
			a.rootDev = dev
			a.Status.RootMountedMS = a.Status.since(time.Now())
			return fmt.Sprintf("%s (%s, %s) on %s", dev, t, mode, a.NewRoot), nil
		}
		errs = append(errs, fmt.Sprintf("as %s: %v", t, err))
	}
	return "", fmt.Errorf("mount %s on %s: %s", dev, a.NewRoot, strings.Join(errs, "; "))
}

// checkRoot is mount-root in hook mode: the generator mounted the root; it
// must be a mount point (not the initramfs's empty directory).
func (a *Agent) checkRoot(ctx context.Context) (string, error) {
	var rootSt, newSt unix.Stat_t
	if err := unix.Stat("/", &rootSt); err != nil {
		return "", fmt.Errorf("stat /: %w", err)
	}
	if err := unix.Stat(a.NewRoot, &newSt); err != nil {
		return "", fmt.Errorf("root %s: %w", a.NewRoot, err)
	}
	if rootSt.Dev == newSt.Dev {
		return "", fmt.Errorf("root %s is not mounted (same device as the initramfs)", a.NewRoot)
	}
	a.rootDev = a.NewRoot
	a.Status.RootMountedMS = a.Status.since(time.Now())
	return fmt.Sprintf("%s mounted by the generator", a.NewRoot), nil
}
