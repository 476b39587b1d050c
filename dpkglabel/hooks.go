package dpkglabel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Where the hooks live on the machine.
const (
	DpkgDeb     = "/usr/bin/dpkg-deb"
	DpkgDebReal = "/usr/bin/dpkg-deb.distrib" // where the diversion moves dpkg's own
	ShimPath    = "/usr/lib/imaboot/dpkg-deb" // imaboot-dpkg-deb, installed by scripts/install
	HookConfig  = "/etc/dpkg/dpkg.cfg.d/imaboot"
)

// hookConfig is dpkg's configuration: after every unpack (and any other
// action), label what dpkg unpacked, before a later dpkg run configures it.
// DPKG_ROOT is set by dpkg --root. Without imaboot-relabel, nothing runs.
const hookConfig = `# imaboot: after each dpkg run, give the files of the packages it unpacked
# their IMA signatures from the packages' manifests (PKG.imasigs), before a
# later run (dpkg --configure, as apt calls it) executes them.
# Installed and removed by: imaboot-relabel --from-dpkg --install-hooks | --remove-hooks
post-invoke="if [ -x /usr/bin/imaboot-relabel ]; then /usr/bin/imaboot-relabel --from-dpkg --pending --root ${DPKG_ROOT:-/}; fi"
`

// InstallHooks installs, in root, the dpkg configuration above and the
// dpkg-deb shim (a local diversion of dpkg-deb to dpkg-deb.distrib, and
// dpkg-deb a symlink to the shim). It is idempotent.
func InstallHooks(root string) error {
	if _, err := os.Stat(filepath.Join(root, ShimPath)); err != nil {
		return fmt.Errorf("install hooks: the dpkg-deb shim is not installed: %w (scripts/install puts it there)", err)
	}
	cfg := filepath.Join(root, HookConfig)
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		return fmt.Errorf("install hooks: %w", err)
	}
	if err := os.WriteFile(cfg, []byte(hookConfig), 0o644); err != nil {
		return fmt.Errorf("install hooks: %w", err)
	}
	deb := filepath.Join(root, DpkgDeb)
	if target, err := os.Readlink(deb); err == nil && target == ShimPath {
		return nil
	}
	if out, err := divert(root, "--add"); err != nil {
		return fmt.Errorf("install hooks: dpkg-divert --add %s: %v: %s", DpkgDeb, err, out)
	}
	if _, err := os.Lstat(deb); err == nil {
		return fmt.Errorf("install hooks: %s still exists after the diversion", deb)
	}
	if err := os.Symlink(ShimPath, deb); err != nil {
		return fmt.Errorf("install hooks: %w", err)
	}
	return nil
}

// RemoveHooks undoes InstallHooks: dpkg's own dpkg-deb goes back in place.
func RemoveHooks(root string) error {
	deb := filepath.Join(root, DpkgDeb)
	if target, err := os.Readlink(deb); err == nil && target == ShimPath {
		if err := os.Remove(deb); err != nil {
			return fmt.Errorf("remove hooks: %w", err)
		}
	}
	if out, err := divert(root, "--remove"); err != nil && !strings.Contains(out, "No diversion") {
		return fmt.Errorf("remove hooks: dpkg-divert --remove %s: %v: %s", DpkgDeb, err, out)
	}
	if err := os.Remove(filepath.Join(root, HookConfig)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove hooks: %w", err)
	}
	return nil
}

func divert(root, op string) (string, error) {
	args := []string{"--local", "--rename", "--divert", DpkgDebReal, op, DpkgDeb}
	if root != "/" && root != "" {
		args = append([]string{"--root", root}, args...)
	}
	out, err := exec.Command("dpkg-divert", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
