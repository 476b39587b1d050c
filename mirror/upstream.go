package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/imaboot/imaboot/debarchive"
)

// suite is one upstream suite, checked: its Release and the indexes the
// mirror republishes.
type suite struct {
	name    string // the directory under dists/
	dir     string // upstream's dists/NAME
	release *debarchive.Release
	signer  string // fingerprint of the key that signed it ("" unverified)
	// packages holds the stanzas of each COMPONENT/binary-ARCH, in
	// upstream's order; suffixes the compressions upstream lists for it.
	packages map[string][]debarchive.Paragraph
	suffixes map[string][]string
	archRel  map[string]bool   // COMPONENT/binary-ARCH has a Release file upstream
	verbatim map[string][]byte // other indexes, published unchanged
	warnings []string
}

// indexDir is "COMPONENT/binary-ARCH".
func indexDir(comp, arch string) string { return comp + "/binary-" + arch }

// readSuite reads and checks upstream's dists/NAME.
func readSuite(c *Config, ring *debarchive.Keyring, name string, now time.Time) (*suite, error) {
	s := &suite{name: name, dir: filepath.Join(c.Upstream, "dists", name), packages: map[string][]debarchive.Paragraph{},
		suffixes: map[string][]string{}, archRel: map[string]bool{}, verbatim: map[string][]byte{}}
	text, err := s.releaseText(ring)
	if err != nil {
		return nil, err
	}
	if s.release, err = debarchive.ParseRelease(text); err != nil {
		return nil, fmt.Errorf("%s: %w", s.dir, err)
	}
	if vu, err := s.release.ValidUntil(); err != nil {
		return nil, fmt.Errorf("%s/Release: Valid-Until: %w", s.dir, err)
	} else if !vu.IsZero() && now.After(vu) {
		return nil, fmt.Errorf("%s/Release expired at %s (Valid-Until): refresh the upstream copy", s.dir, debarchive.FormatDate(vu))
	}
	comps := strings.Fields(s.release.Fields.Value("Components"))
	arches := strings.Fields(s.release.Fields.Value("Architectures"))
	for _, comp := range c.Components {
		if !slices.Contains(comps, comp) && !slices.Contains(comps, path.Base(comp)) {
			return nil, fmt.Errorf("%s/Release: component %s is not in Components: %s", s.dir, comp, strings.Join(comps, " "))
		}
		for _, arch := range c.Architectures {
			if !slices.Contains(arches, arch) {
				return nil, fmt.Errorf("%s/Release: architecture %s is not in Architectures: %s", s.dir, arch, strings.Join(arches, " "))
			}
			if err := s.readPackages(comp, arch); err != nil {
				return nil, err
			}
		}
	}
	s.readVerbatim(c, arches)
	return s, nil
}

// releaseText returns Release's text once its signature is checked:
// InRelease, else Release with Release.gpg.
func (s *suite) releaseText(ring *debarchive.Keyring) ([]byte, error) {
	in, err := os.ReadFile(filepath.Join(s.dir, "InRelease"))
	if err == nil {
		if ring == nil {
			text, err := debarchive.UnverifiedText(in)
			if err != nil {
				return nil, fmt.Errorf("%s/InRelease: %w", s.dir, err)
			}
			return text, nil
		}
		text, signer, err := ring.VerifyInRelease(in)
		if err != nil {
			return nil, fmt.Errorf("%s/InRelease: %w", s.dir, err)
		}
		s.signer = signer
		return text, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	rel, err := os.ReadFile(filepath.Join(s.dir, "Release"))
	if err != nil {
		return nil, fmt.Errorf("suite %s: neither InRelease nor Release: %w", s.name, err)
	}
	if ring == nil {
		return rel, nil
	}
	sig, err := os.ReadFile(filepath.Join(s.dir, "Release.gpg"))
	if err != nil {
		return nil, fmt.Errorf("%s/Release is not signed: %w", s.dir, err)
	}
	if s.signer, err = ring.VerifyDetached(rel, sig); err != nil {
		return nil, fmt.Errorf("%s/Release.gpg: %w", s.dir, err)
	}
	return rel, nil
}

// readListed returns the content of the file Release lists as rel (looked
// up by its name, then in by-hash/), checked against Release; ok is false
// when the local copy has neither.
func (s *suite) readListed(rel string) (b []byte, ok bool, err error) {
	sum, listed := s.release.Files[rel]
	if !listed {
		return nil, false, nil
	}
	candidates := []string{filepath.Join(s.dir, rel)}
	if d, ok := sum.Digests["SHA256"]; ok {
		candidates = append(candidates, filepath.Join(s.dir, path.Dir(rel), "by-hash", "SHA256", d))
	}
	var mismatch error
	for _, p := range candidates {
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if err := checkSum(b, sum); err != nil {
			mismatch = fmt.Errorf("%s: %w (Release lists %s)", p, err, rel)
			continue
		}
		return b, true, nil
	}
	return nil, false, mismatch
}

// checkSum compares b with a Release entry: its size, and its SHA256
// (MD5Sum alone is not trusted).
func checkSum(b []byte, want debarchive.Sum) error {
	if int64(len(b)) != want.Size {
		return fmt.Errorf("size %d, want %d", len(b), want.Size)
	}
	d, ok := want.Digests["SHA256"]
	if !ok {
		return errors.New("the Release file gives no SHA256 for it")
	}
	if got := debarchive.SHA256Hex(b); got != d {
		return fmt.Errorf("SHA256 %s, want %s", got, d)
	}
	return nil
}

// readPackages reads COMPONENT/binary-ARCH/Packages from the first
// compression that the local copy holds and Release vouches for.
func (s *suite) readPackages(comp, arch string) error {
	dir := indexDir(comp, arch)
	base := dir + "/Packages"
	var listed []string
	for _, suf := range debarchive.IndexSuffixes {
		if _, ok := s.release.Files[base+suf]; ok {
			listed = append(listed, suf)
		}
	}
	if len(listed) == 0 {
		return fmt.Errorf("%s/Release lists no %s", s.dir, base)
	}
	s.suffixes[dir] = listed
	_, s.archRel[dir] = s.release.Files[dir+"/Release"]
	var firstErr error
	for _, suf := range listed {
		b, found, err := s.readListed(base + suf)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if !found {
			continue
		}
		text, err := debarchive.Decompress(suf, b)
		if err != nil {
			return fmt.Errorf("%s/%s%s: %w", s.dir, base, suf, err)
		}
		var stanzas []debarchive.Paragraph
		if err := debarchive.ReadParagraphs(bytes.NewReader(text), func(p debarchive.Paragraph) error {
			stanzas = append(stanzas, p)
			return nil
		}); err != nil {
			return fmt.Errorf("%s/%s%s: %w", s.dir, base, suf, err)
		}
		s.packages[dir] = stanzas
		return nil
	}
	if firstErr != nil {
		return firstErr
	}
	return fmt.Errorf("%s: no local copy of %s in any of the compressions Release lists", s.dir, base)
}

// readVerbatim collects the other indexes of the configured components that
// signing does not change (translations, Contents, AppStream metadata) and
// that the local copy holds, checked against Release.
func (s *suite) readVerbatim(c *Config, upstreamArches []string) {
	var skipArches []string
	for _, a := range upstreamArches {
		if !slices.Contains(c.Architectures, a) {
			skipArches = append(skipArches, a)
		}
	}
	for rel := range s.release.Files {
		comp, rest, ok := strings.Cut(rel, "/")
		if !ok || !slices.Contains(c.Components, comp) || strings.Contains(rel, "/by-hash/") {
			continue
		}
		if strings.HasPrefix(rest, "binary-") || strings.HasPrefix(rest, "source/") || strings.HasPrefix(rest, "debian-installer/") || strings.Contains(rest, "-udeb") {
			continue
		}
		if forArch(rest, skipArches) {
			continue
		}
		b, found, err := s.readListed(rel)
		if err != nil {
			s.warnings = append(s.warnings, fmt.Sprintf("%s left out: %v", rel, err))
			continue
		}
		if found {
			s.verbatim[rel] = b
		}
	}
}

// forArch reports whether an index name belongs to one of arches
// (Contents-arm64.gz, dep11/Components-arm64.yml.xz).
func forArch(name string, arches []string) bool {
	for _, a := range arches {
		if strings.Contains(name, "-"+a+".") || strings.HasSuffix(name, "-"+a) || strings.Contains(name, "-"+a+"/") {
			return true
		}
	}
	return false
}
