package dpkglabel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/relabel"
)

// LabelControlDir labels the maintainer scripts of a control archive that
// dpkg-deb --control just extracted into dir (dpkg's tmp.ci), from the
// package's own manifest there, before dpkg runs the new preinst. It
// returns how many it labeled; a directory without manifest is (0, nil).
func LabelControlDir(dir string) (int, error) {
	m, err := readManifest(filepath.Join(dir, imasigs.ControlMember))
	if err != nil || m == nil {
		return 0, err
	}
	n := 0
	var errs []error
	buf := make([]byte, 64<<10)
	for _, e := range m.Entries {
		name, ok := e.IsControl()
		if !ok || !isScript(name) {
			continue
		}
		_, err := relabel.ApplyLabel(filepath.Join(dir, name), e.Algo, e.Digest, e.Label, buf)
		switch {
		case err == nil:
			n++
		case errors.Is(err, os.ErrNotExist):
		default:
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("maintainer scripts not labeled: %w", errors.Join(errs...))
	}
	return n, nil
}
