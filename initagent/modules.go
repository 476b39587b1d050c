package initagent

import (
	"context"
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
	done, err := kmod.Load(dir, names, kmod.LoadOptions{Params: params, Debug: a.Log.Debugf})
	var loaded []string
	for _, r := range done {
		loaded = append(loaded, fmt.Sprintf("%s(%s)", r.Name, r.Status))
	}
	if err != nil {
		return "", fmt.Errorf("load modules %s from %s: %w", strings.Join(names, ","), dir, err)
	}
	return strings.Join(loaded, " "), nil
}
