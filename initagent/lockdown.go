package initagent

import (
	"context"
	"errors"
	"fmt"

	"github.com/imaboot/imaboot/securityfs"
)

// raiseLockdown is the lockdown step, the last before the switch: it
// raises the kernel's lockdown to LOCKDOWN (integrity by default in enforce
// mode), so that root cannot change the running kernel under IMA after the
// switch (/dev/mem, unsigned modules, kexec of an unsigned kernel, ...). It
// never lowers it. Lockdown none is reported as a warning.
func (a *Agent) raiseLockdown(context.Context) (string, error) {
	want := a.Config.EffectiveLockdown()
	cur, err := securityfs.Lockdown(a.secfs)
	switch {
	case errors.Is(err, securityfs.ErrNoLockdown) && want == securityfs.LockdownNone:
		a.Status.Lockdown = string(securityfs.LockdownNone)
		return "", Warn("lockdown none: %v", err)
	case err != nil:
		return "", fmt.Errorf("LOCKDOWN=%s: %w; set LOCKDOWN=none to boot without it", want, err)
	case want == securityfs.LockdownNone && cur == securityfs.LockdownNone:
		a.Status.Lockdown = string(cur)
		return "", Warn("lockdown none: root can change the running kernel after the switch (/dev/mem, unsigned modules, kexec); set LOCKDOWN=integrity")
	}
	before, after, err := securityfs.RaiseLockdown(a.secfs, want)
	a.Status.Lockdown = string(after)
	if err != nil {
		return "", fmt.Errorf("LOCKDOWN=%s: %w", want, err)
	}
	if before == after {
		return fmt.Sprintf("kernel lockdown already %s (wanted %s; never lowered)", after, want), nil
	}
	return fmt.Sprintf("kernel lockdown raised from %s to %s", before, after), nil
}
