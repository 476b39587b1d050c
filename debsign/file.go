package debsign

import (
	"fmt"
	"os"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/internal/atomicfile"
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

// WriteAtomic writes p to path through a temporary file beside it
// (internal/atomicfile).
func WriteAtomic(path string, mode os.FileMode, p *deb.Package) error {
	return atomicfile.WriteFrom(path, mode, p.Write)
}
