package debsign

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/imaboot/imaboot/internal/atomicfile"
)

// IndexRepo regenerates the indexes of a flat apt repository (the .debs
// under dir, "deb [trusted=yes] file:DIR ./" in a sources list):
// Packages and Packages.gz with apt-ftparchive packages, then Release with
// apt-ftparchive release (apt-utils), the tool Debian's own archive
// scripts and reprepro-less mirrors use. Each index is replaced atomically.
// Signing Release with an OpenPGP key is left to the mirror's tooling.
func IndexRepo(dir string) error {
	if _, err := exec.LookPath("apt-ftparchive"); err != nil {
		return fmt.Errorf("index %s: apt-ftparchive not found (Debian package apt-utils)", dir)
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command("apt-ftparchive", args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("index %s: apt-ftparchive %v: %v: %s", dir, args, err, bytes.TrimSpace(stderr.Bytes()))
		}
		return out, nil
	}
	pk, err := run("packages", ".")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "Packages"), pk, 0o644); err != nil {
		return err
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(pk)
	w.Close()
	if err := atomicfile.Write(filepath.Join(dir, "Packages.gz"), gz.Bytes(), 0o644); err != nil {
		return err
	}
	// Release must not list itself.
	os.Remove(filepath.Join(dir, "Release"))
	rel, err := run("release", ".")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "Release"), rel, 0o644)
}
