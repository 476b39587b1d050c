package integration

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
)

// guestTools are the programs under integration/fixture that tests put on
// a guest's root, each built once per test binary beside TestMain's
// binaries (and removed with them).
var guestTools struct {
	sync.Mutex
	built map[string]guestToolBuild
}

type guestToolBuild struct {
	path string
	err  error
}

// guestTool builds integration/fixture/name once and returns its path.
func guestTool(t *testing.T, name string) string {
	t.Helper()
	guestTools.Lock()
	defer guestTools.Unlock()
	b, ok := guestTools.built[name]
	if !ok {
		repo, err := fixture.RepoRoot()
		if err == nil {
			var built fixture.Binaries
			built, err = fixture.BuildPackages(repo, filepath.Dir(bins["imaboot-init"]), "./integration/fixture/"+name)
			b.path = built[name]
		}
		b.err = err
		if guestTools.built == nil {
			guestTools.built = map[string]guestToolBuild{}
		}
		guestTools.built[name] = b
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}
