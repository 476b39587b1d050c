package mirror

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/debarchive"
	"github.com/imaboot/imaboot/internal/atomicfile"
)

// KeyringFile is the mirror's OpenPGP public key, written at the top of
// Basedir (binary, for apt's signed-by=).
const KeyringFile = "mirror-keyring.gpg"

// releaseFields are copied from upstream's Release when present.
var releaseFields = []string{"Suite", "Version", "Codename", "Changelogs", "Date", "Valid-Until", "Acquire-By-Hash", "No-Support-for-Architecture-all", "Architectures", "Components", "Description"}

// publish writes the new dists/ aside, links the pool, switches dists/ in
// and removes what neither this generation nor the previous one names.
func (r *runner) publish(suites []*suite, published map[string]result, key keyPkg, sum *Summary) error {
	pool := map[string]string{key.filename: key.stanza.Value("SHA256")} // Filename -> store SHA-256
	for fn, res := range published {
		pool[fn] = res.sum.Digests["SHA256"]
	}
	sum.Published = len(pool)
	newDists := filepath.Join(r.state, "dists.new")
	if err := os.RemoveAll(newDists); err != nil {
		return err
	}
	oldDists := filepath.Join(r.c.Basedir, "dists")
	changed := false
	for _, s := range suites {
		rel, err := r.writeSuite(s, filepath.Join(newDists, s.name), filepath.Join(oldDists, s.name), published, key)
		if err != nil {
			return err
		}
		old, _ := os.ReadFile(filepath.Join(oldDists, s.name, "Release"))
		if !sameBesidesDate(old, rel) {
			changed = true
		}
	}
	linked, err := r.linkPool(pool)
	if err != nil {
		return err
	}
	pub, err := r.pgp.PublicKey()
	if err != nil {
		return err
	}
	if old, _ := os.ReadFile(filepath.Join(r.c.Basedir, KeyringFile)); !bytes.Equal(old, pub) {
		if err := atomicfile.Write(filepath.Join(r.c.Basedir, KeyringFile), pub, 0o644); err != nil {
			return err
		}
	}
	if !changed && linked == 0 {
		return os.RemoveAll(newDists)
	}
	prev := readPublished(filepath.Join(r.state, "published"))
	if testHook != nil {
		if err := testHook("switch"); err != nil {
			return err
		}
	}
	if err := switchDir(newDists, oldDists); err != nil {
		return err
	}
	sum.Changed = true
	if err := writePublished(filepath.Join(r.state, "published"), pool); err != nil {
		return err
	}
	keep := map[string]string{}
	for fn, sha := range prev {
		keep[fn] = sha
	}
	for fn, sha := range pool {
		keep[fn] = sha
	}
	return r.collect(keep)
}

// sameBesidesDate compares two Release files, Date aside.
func sameBesidesDate(a, b []byte) bool {
	strip := func(x []byte) string {
		var out []string
		for _, l := range strings.Split(string(x), "\n") {
			if !strings.HasPrefix(l, "Date:") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	return len(a) > 0 && strip(a) == strip(b)
}

// writeSuite writes one suite's new dists/NAME into dir and returns its
// Release. old is the published dists/NAME (its compressed indexes are
// reused when the content did not change; its by-hash files are kept).
func (r *runner) writeSuite(s *suite, dir, old string, published map[string]result, key keyPkg) ([]byte, error) {
	rel := &debarchive.Release{Files: map[string]debarchive.Sum{}}
	put := func(name string, b []byte) error {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		sm := debarchive.SumOf(b)
		rel.Files[name] = sm
		return linkByHash(p, sm)
	}
	for i, comp := range r.c.Components {
		for _, arch := range r.c.Architectures {
			idx := indexDir(comp, arch)
			text := r.packagesText(s.packages[idx], published, key, i == 0)
			if err := r.writeIndex(put, filepath.Join(old, idx), idx+"/Packages", s.suffixes[idx], text); err != nil {
				return nil, err
			}
			if s.archRel[idx] {
				var p debarchive.Paragraph
				p.Set("Archive", orDefault(s.release.Fields.Value("Suite"), s.name))
				p.Set("Origin", r.origin(s))
				p.Set("Label", r.label(s))
				p.Set("Acquire-By-Hash", "yes")
				p.Set("Component", comp)
				p.Set("Architecture", arch)
				if err := put(idx+"/Release", p.AppendTo(nil)); err != nil {
					return nil, err
				}
			}
		}
	}
	for name, b := range s.verbatim {
		if err := put(name, b); err != nil {
			return nil, err
		}
	}
	if err := keepOldByHash(old, dir); err != nil {
		return nil, err
	}
	for _, f := range releaseFields {
		if v := s.release.Fields.Value(f); v != "" {
			rel.Fields.Set(f, v)
		}
	}
	rel.Fields = append(debarchive.Paragraph{{Name: "Origin", Raw: " " + r.origin(s)}, {Name: "Label", Raw: " " + r.label(s)}}, rel.Fields...)
	rel.Fields.Set("Date", debarchive.FormatDate(r.now))
	rel.Fields.Set("Acquire-By-Hash", "yes")
	rel.Fields.Set("Architectures", strings.Join(r.c.Architectures, " "))
	rel.Fields.Set("Components", strings.Join(r.c.Components, " "))
	release := rel.Bytes("MD5Sum", "SHA256")
	in, det, err := r.pgp.Sign(release)
	if err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{"Release": release, "InRelease": in, "Release.gpg": det} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return nil, err
		}
	}
	return release, nil
}

func (r *runner) origin(s *suite) string {
	return orDefault(r.c.Origin, s.release.Fields.Value("Origin"))
}

func (r *runner) label(s *suite) string {
	return orDefault(r.c.Label, r.origin(s))
}

// packagesText is the new Packages: upstream's stanzas of the packages
// published, in upstream's order, with the signed files' sizes and
// checksums; the key package last in the first component.
func (r *runner) packagesText(stanzas []debarchive.Paragraph, published map[string]result, key keyPkg, withKey bool) []byte {
	var b []byte
	for _, p := range stanzas {
		res, ok := published[p.Value("Filename")]
		if !ok {
			continue
		}
		q := p.Clone()
		setSums(&q, res.sum)
		if len(b) > 0 {
			b = append(b, '\n')
		}
		b = q.AppendTo(b)
	}
	if withKey {
		if len(b) > 0 {
			b = append(b, '\n')
		}
		b = key.stanza.AppendTo(b)
	}
	return b
}

// writeIndex writes an index in each compression upstream listed. When the
// published one has the same content, its compressed files are reused
// (compressing a whole archive's Packages with xz takes a while).
func (r *runner) writeIndex(put func(string, []byte) error, oldDir, base string, suffixes []string, text []byte) error {
	reuse := false
	for _, suf := range suffixes {
		b, err := os.ReadFile(filepath.Join(oldDir, path.Base(base)+suf))
		if err != nil {
			continue
		}
		if plain, err := debarchive.Decompress(suf, b); err == nil && bytes.Equal(plain, text) {
			reuse = true
		}
		break
	}
	for _, suf := range suffixes {
		var b []byte
		var err error
		if reuse {
			b, err = os.ReadFile(filepath.Join(oldDir, path.Base(base)+suf))
		}
		if !reuse || err != nil {
			if b, err = debarchive.Compress(suf, text); err != nil {
				return fmt.Errorf("%s%s: %w", base, suf, err)
			}
		}
		if err := put(base+suf, b); err != nil {
			return err
		}
	}
	return nil
}

// linkByHash links an index as DIR/by-hash/SHA256/DIGEST beside it, the
// name apt fetches when Release says Acquire-By-Hash.
func linkByHash(p string, s debarchive.Sum) error {
	bh := filepath.Join(filepath.Dir(p), "by-hash", "SHA256")
	if err := os.MkdirAll(bh, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(bh, s.Digests["SHA256"])
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	return os.Link(p, dst)
}

// keepOldByHash links the by-hash files of the indexes the published
// Release names into the new dists/: a client that read the old InRelease
// just before the switch still gets the indexes it names. Older ones are
// not carried on, so by-hash/ holds two generations.
func keepOldByHash(old, dir string) error {
	text, err := os.ReadFile(filepath.Join(old, "Release"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	rel, err := debarchive.ParseRelease(text)
	if err != nil {
		return fmt.Errorf("%s/Release: %w", old, err)
	}
	for name, sm := range rel.Files {
		d, ok := sm.Digests["SHA256"]
		if !ok {
			continue
		}
		byHash := filepath.Join(path.Dir(name), "by-hash", "SHA256", d)
		src, dst := filepath.Join(old, byHash), filepath.Join(dir, byHash)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if _, err := os.Stat(src); err != nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Link(src, dst); err != nil {
			return err
		}
	}
	return nil
}

// linkPool makes every published pool file a hard link to its stored
// content, replacing a different file of the same name by rename. It
// returns how many names it changed.
func (r *runner) linkPool(pool map[string]string) (int, error) {
	n := 0
	names := make([]string, 0, len(pool))
	for fn := range pool {
		names = append(names, fn)
	}
	sort.Strings(names)
	for _, fn := range names {
		src := r.store.path(pool[fn])
		dst := filepath.Join(r.c.Basedir, fn)
		si, err := os.Stat(src)
		if err != nil {
			return n, fmt.Errorf("store: %w", err)
		}
		if di, err := os.Stat(dst); err == nil && os.SameFile(si, di) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return n, err
		}
		tmp := dst + ".imaboot-new"
		os.Remove(tmp)
		if err := os.Link(src, tmp); err != nil {
			return n, err
		}
		if err := os.Rename(tmp, dst); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// switchDir puts the directory newDir in place of dst in one step
// (renameat2 RENAME_EXCHANGE), so that a reader sees the old dists/ or the
// new one, never a mix; the old one ends up at newDir and is removed.
func switchDir(newDir, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, newDir, unix.AT_FDCWD, dst, unix.RENAME_EXCHANGE)
	switch {
	case errors.Is(err, unix.ENOENT):
		if _, serr := os.Stat(dst); errors.Is(serr, fs.ErrNotExist) {
			err = os.Rename(newDir, dst) // the first run
		}
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		// A file system without RENAME_EXCHANGE: dists/ is missing for
		// the time between two renames (clients retry), never half-made.
		aside := newDir + ".old"
		os.RemoveAll(aside)
		if err = os.Rename(dst, aside); err == nil {
			err = os.Rename(newDir, dst)
			os.RemoveAll(aside)
		}
	}
	if err != nil {
		return fmt.Errorf("switch %s into %s: %w", newDir, dst, err)
	}
	syncDir(filepath.Dir(dst))
	return os.RemoveAll(newDir)
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// readPublished reads the state file naming the published pool (Filename
// -> store SHA-256).
func readPublished(p string) map[string]string {
	m := map[string]string{}
	b, _ := os.ReadFile(p)
	for _, l := range strings.Split(string(b), "\n") {
		if sha, fn, ok := strings.Cut(l, " "); ok {
			m[fn] = sha
		}
	}
	return m
}

func writePublished(p string, pool map[string]string) error {
	var b strings.Builder
	for fn, sha := range pool {
		fmt.Fprintf(&b, "%s %s\n", sha, fn)
	}
	return atomicfile.Write(p, []byte(b.String()), 0o644)
}

// collect removes pool files and stored packages that keep does not name
// (the new generation and the previous one), the leftovers of
// interrupted runs, and cache entries whose file is gone.
func (r *runner) collect(keep map[string]string) error {
	shas := map[string]bool{}
	for _, sha := range keep {
		shas[sha] = true
	}
	pool := filepath.Join(r.c.Basedir, "pool")
	err := filepath.WalkDir(pool, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(r.c.Basedir, p)
		if _, ok := keep[filepath.ToSlash(rel)]; !ok {
			return os.Remove(p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	removeEmptyDirs(pool)
	err = filepath.WalkDir(r.store.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !shas[strings.TrimSuffix(d.Name(), ".deb")] {
			return os.Remove(p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.cache.compact(func(s debarchive.Sum) bool { return shas[s.Digests["SHA256"]] })
}

// removeEmptyDirs removes the empty directories under dir (not dir).
func removeEmptyDirs(dir string) {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i]) // fails, as it should, when not empty
	}
}
