package debsign

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/relabel"
)

// SignFile signs the .deb in and writes it to out (which may be in). The
// output is written to a temporary file beside out and renamed only once
// complete: a failure leaves out as it was.
func SignFile(in, out string, s *relabel.Signer, algo relabel.HashAlgo) (Result, error) {
	p, err := deb.ReadFile(in)
	if err != nil {
		return Result{}, err
	}
	res, err := SignPackage(p, s, algo)
	if err != nil {
		return res, fmt.Errorf("%s: %w", in, err)
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(in); err == nil {
		mode = st.Mode().Perm()
	}
	return res, WriteAtomic(out, mode, p)
}

// WriteAtomic writes p to path through a temporary file in its directory.
func WriteAtomic(path string, mode os.FileMode, p *deb.Package) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	err = p.Write(f)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
