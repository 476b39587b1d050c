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

// FindDebs lists the .deb files under dir, sorted. A symlink named *.deb
// is followed: one to a package also found under dir adds nothing (it is
// signed under its own name, once); any other is returned in bad, an error
// naming it, as a package that is not signed.
func FindDebs(dir string) (debs []string, bad []error, err error) {
	var links []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !strings.HasSuffix(p, ".deb") {
			return nil
		}
		switch {
		case d.Type().IsRegular():
			debs = append(debs, p)
		case d.Type()&fs.ModeSymlink != 0:
			links = append(links, p)
		}
		return nil
	})
	sort.Strings(debs)
	found := map[string]bool{}
	for _, p := range debs {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			found[real] = true
		}
	}
	for _, l := range links {
		real, rerr := filepath.EvalSymlinks(l)
		if rerr == nil && found[real] {
			continue
		}
		what := "a dangling symlink"
		if rerr == nil {
			what = "a symlink to " + real + ", which is not a package under " + dir
		}
		bad = append(bad, fmt.Errorf("%s: %s: not signed (sign its target)", l, what))
	}
	return debs, bad, err
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
