package initagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/imaboot/imaboot/kmod"
)

// ModulesLoadPath lists the modules imaboot-mkinitramfs was asked to include;
// the agent loads them before the configuration's MODULES.
const ModulesLoadPath = "/etc/imaboot/modules.load"

func (a *Agent) loadModules(ctx context.Context) (string, error) {
	var names []string
	params := map[string]string{}
	data, err := os.ReadFile(ModulesLoadPath)
	switch {
	case err == nil:
		names, params, err = kmod.ParseList(data, ModulesLoadPath)
		if err != nil {
			return "", err
		}
	case !os.IsNotExist(err):
		return "", err
	}
	names = append(names, a.Config.Modules...)
	if len(names) == 0 {
		return "", Skip("no modules configured")
	}
	dir := filepath.Join("/lib/modules", a.kernel)
	// One name at a time: a missing or broken module must not keep the
	// others (the root's disk driver, say) from loading in permissive mode.
	var loaded []string
	var errs []error
	seen := map[string]bool{}
	for _, name := range names {
		done, err := kmod.Load(dir, []string{name}, kmod.LoadOptions{Params: params, Debug: a.Log.Debugf})
		for _, r := range done {
			if !seen[r.Name] {
				seen[r.Name] = true
				loaded = append(loaded, fmt.Sprintf("%s(%s)", r.Name, r.Status))
			}
		}
		if err != nil {
			// kmod's errors name the module, its file and the errno.
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	return strings.Join(loaded, " "), nil
}
