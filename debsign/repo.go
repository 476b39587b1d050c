package debsign

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/imaboot/imaboot/internal/atomicfile"
)

// FindDebs lists the .deb files under dir, sorted.
func FindDebs(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".deb") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// RefreshRepo regenerates Packages, Packages.gz and Release at the top of
// a flat repository dir with apt-ftparchive (apt-utils): it indexes the
// whole tree and writes Release, which dpkg-scanpackages does not.
func RefreshRepo(dir string) error {
	pk := exec.Command("apt-ftparchive", "packages", ".")
	pk.Dir = dir
	var stderr bytes.Buffer
	pk.Stderr = &stderr
	packages, err := pk.Output()
	if err != nil {
		return fmt.Errorf("apt-ftparchive packages %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(packages)
	zw.Close()
	for name, b := range map[string][]byte{"Packages": packages, "Packages.gz": gz.Bytes()} {
		if err := atomicfile.Write(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	// Release must not list itself: generate it beside, then rename.
	rel := exec.Command("apt-ftparchive", "-o", "APT::FTPArchive::Release::Patterns::=Packages*", "release", ".")
	rel.Dir = dir
	stderr.Reset()
	rel.Stderr = &stderr
	release, err := rel.Output()
	if err != nil {
		return fmt.Errorf("apt-ftparchive release %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return atomicfile.Write(filepath.Join(dir, "Release"), release, 0o644)
}
