package images

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/imaboot/imaboot/initagent"
	"github.com/imaboot/imaboot/policygen"
)

// BootCheck says what CheckBoot knows of the kernel the image is for.
type BootCheck struct {
	// KernelRelease is the target kernel ("6.1.0-56-cloud-amd64"); empty:
	// the policy is checked against the newest grammar modeled, with a
	// warning.
	KernelRelease string
	// KernelConfig is its build configuration (boot/config-KVER), or nil.
	KernelConfig *policygen.KernelConfig
}

// KernelCheck finds what CheckBoot needs from a kernel root (as given to
// Spec.KernelRoot) and the version Assemble picked: the release and
// boot/config-KVER when the package has it.
func KernelCheck(kernelRoot, release string) (BootCheck, error) {
	c := BootCheck{KernelRelease: release}
	if kernelRoot == "" || release == "" {
		return c, nil
	}
	p := filepath.Join(kernelRoot, "boot", "config-"+release)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("kernel configuration: %w", err)
	}
	if c.KernelConfig, err = policygen.ParseKernelConfig(bytes.NewReader(data)); err != nil {
		return c, fmt.Errorf("%s: %w", p, err)
	}
	return c, nil
}

// CheckBoot reads the image as imaboot-init will at boot and returns what
// would stop the boot (errors) or deserves a word (warnings):
//  1. the configuration (dracut's sysconfig files when present, then
//     imaboot.conf) through the agent's own parser: a bad line is
//     FILE:LINE: REASON;
//  2. unless KEYS_FROM_ROOT=yes: the IMA policy named by IMA_POLICY must be
//     in the image and pass policygen's check for the target kernel, and
//     when IMA certificates must load (MIN_IMA_CERTS, 1 in enforce mode)
//     IMA_KEYS_DIR must hold at least one file.
func (im *Image) CheckBoot(k BootCheck) (errs, warnings []error) {
	cfg := initagent.DefaultConfig()
	for _, p := range initagent.DracutConfigPaths {
		data, origin, ok, err := im.Lookup(p)
		if err == nil && ok {
			err = initagent.ParseDracutConfig(&cfg, origin, data)
		}
		if err != nil {
			return append(errs, fmt.Errorf("configuration %w", err)), warnings
		}
	}
	data, origin, ok, err := im.Lookup(ConfigPath)
	if err == nil && ok {
		err = initagent.ParseConfig(&cfg, origin, data)
	}
	if err != nil {
		return append(errs, fmt.Errorf("configuration %w", err)), warnings
	}
	if cfg.KeysFromRoot {
		return errs, warnings
	}
	if cfg.IMAPolicy != "" {
		errs, warnings = im.checkPolicy(cfg, k, errs, warnings)
	}
	if n := cfg.MinIMACertificates(); n > 0 && im.filesUnder(cfg.IMAKeysDir) == 0 {
		errs = append(errs, fmt.Errorf("no certificate under %s in the image, and %d must load (MODE=%s, MIN_IMA_CERTS): the boot would stop at step ima-certificates (add --file CERT:%s/NAME.der)",
			cfg.IMAKeysDir, n, cfg.Mode, cfg.IMAKeysDir))
	}
	return errs, warnings
}

func (im *Image) checkPolicy(cfg initagent.Config, k BootCheck, errs, warnings []error) ([]error, []error) {
	data, origin, ok, err := im.Lookup(cfg.IMAPolicy)
	if err != nil {
		return append(errs, err), warnings
	}
	if !ok {
		return append(errs, fmt.Errorf("IMA_POLICY=%s is not a file in the image: the boot would stop at step ima-policy (add --file POLICY:%s, or set IMA_POLICY= for no policy)", cfg.IMAPolicy, cfg.IMAPolicy)), warnings
	}
	release := k.KernelRelease
	if release == "" {
		release = policygen.NewestKnown.String()
		warnings = append(warnings, fmt.Errorf("%s checked against Linux %s, the newest grammar known: give --kernel-root to check it for the target kernel", origin, release))
	}
	p, err := policygen.Prepare(origin, data, release, k.KernelConfig)
	if err != nil {
		return append(errs, fmt.Errorf("IMA policy %s: %w", origin, err)), warnings
	}
	if err := p.Err(); err != nil {
		return append(errs, fmt.Errorf("IMA policy %s (IMA_POLICY=%s): %w: the kernel would refuse it and the boot would stop at step ima-policy", origin, cfg.IMAPolicy, err)), warnings
	}
	// As the agent logs them at boot: the warnings one by one, the bypass
	// report (a deliberately open profile has many) in one line.
	for _, d := range p.Warnings() {
		if d.Code == policygen.CodeInitramfs {
			continue // the image's /init is the agent: nothing runs from it after the policy
		}
		warnings = append(warnings, errors.New(d.String()))
	}
	if b := p.BypassSummary(); b != "" {
		warnings = append(warnings, fmt.Errorf("%s leaves %s (imaboot-policygen check --kernel %s lists them)", origin, b, release))
	}
	return errs, warnings
}

// filesUnder counts the regular files and symlinks directly in dir.
func (im *Image) filesUnder(dir string) int {
	rel, err := cleanDst(dir)
	if err != nil {
		return 0
	}
	n := 0
	for p, node := range im.t {
		if path.Dir(p) == rel && (node.kind == kindFile || node.kind == kindSymlink) {
			n++
		}
	}
	return n
}
