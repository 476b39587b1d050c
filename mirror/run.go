package mirror

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/debarchive"
	"github.com/imaboot/imaboot/debsign"
	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/relabel"
)

// Failure is a package that was not published signed.
type Failure struct {
	Filename string
	Reason   string
	// Corrupt: its bytes are not what upstream's index says; never published.
	Corrupt bool
	// Unsigned: published as upstream made it (PublishUnsigned).
	Unsigned bool
}

// Summary is what a run did.
type Summary struct {
	Suites    int
	Listed    int // distinct packages in upstream's indexes
	Missing   int // listed but not in the local copy (a partial mirror): left out
	Signed    int // signed in this run
	Reused    int // signed before (the cache)
	Published int // packages the new indexes name, the key package included
	Failures  []Failure
	Files     int   // files signed in this run (manifest entries)
	Bytes     int64 // upstream bytes read and signed in this run
	SignTime  time.Duration
	Elapsed   time.Duration
	Changed   bool // a new dists/ was switched in
	Warnings  []string
}

// String is the summary line.
func (s Summary) String() string {
	sec := s.SignTime.Seconds()
	rate := ""
	if s.Signed > 0 && sec > 0 {
		rate = fmt.Sprintf(" (%d files, %.1f MB in %.1f s: %.1f packages/s, %.1f MB/s)", s.Files, float64(s.Bytes)/1e6, sec, float64(s.Signed)/sec, float64(s.Bytes)/1e6/sec)
	}
	pub := "published mirror unchanged"
	if s.Changed {
		pub = "new dists/ switched in"
	}
	return fmt.Sprintf("%d suites, %d packages listed upstream, %d not in the local copy; %d signed%s, %d reused, %d failed; %d published; %s; %.1f s",
		s.Suites, s.Listed, s.Missing, s.Signed, rate, s.Reused, len(s.Failures), s.Published, pub, s.Elapsed.Seconds())
}

// SetupError is a run that could not start: bad configuration, keys, an
// upstream that does not verify, another run holding the lock. It is found
// before anything is written; nothing was published. Other errors come
// later (a disk full while storing or publishing): the published mirror is
// the previous one unless Summary.Changed says the new dists/ went in.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

// runner holds one run's state.
type runner struct {
	c        Config
	progress io.Writer
	signer   *relabel.Signer
	algo     relabel.HashAlgo
	cert     keyload.Certificate
	pgp      *debarchive.Signer
	ring     *debarchive.Keyring
	state    string
	store    store
	cache    *cache
	now      time.Time
}

// Run mirrors c.Upstream into c.Basedir (see the package comment). Every
// input (configuration, keys, upstream's Release and indexes, the key
// package's name and version) is checked before anything is written: the
// error is then a *SetupError. Failed packages are in the Summary.
func Run(c Config, progress io.Writer) (Summary, error) {
	start := time.Now()
	var sum Summary
	if progress == nil {
		progress = io.Discard
	}
	if err := c.check(); err != nil {
		return sum, &SetupError{err}
	}
	r := &runner{c: c, progress: progress, now: time.Now()}
	if err := r.loadKeys(); err != nil {
		return sum, &SetupError{err}
	}
	var suites []*suite
	for _, name := range c.Suites {
		s, err := readSuite(&r.c, r.ring, name, r.now)
		if err != nil {
			return sum, &SetupError{err}
		}
		who := "unverified (AllowUnverifiedUpstream)"
		if s.signer != "" {
			who = "signed by " + s.signer
		}
		fmt.Fprintf(progress, "imaboot-debsign mirror: upstream %s: Release %s\n", name, who)
		sum.Warnings = append(sum.Warnings, s.warnings...)
		suites = append(suites, s)
	}
	sum.Suites = len(suites)
	debs, err := listDebs(suites)
	if err != nil {
		return sum, &SetupError{err}
	}
	keyDeb, err := r.buildKeyPackage()
	if err != nil {
		return sum, &SetupError{err}
	}

	r.state = filepath.Join(c.Basedir, stateDir)
	r.store = store{filepath.Join(r.state, "store")}
	if err := os.MkdirAll(r.store.dir, 0o755); err != nil {
		return sum, &SetupError{err}
	}
	unlock, err := lock(filepath.Join(r.state, "lock"))
	if err != nil {
		return sum, &SetupError{err}
	}
	defer unlock()
	if r.cache, err = openCache(filepath.Join(r.state, "signed.cache"), r.identity()); err != nil {
		return sum, &SetupError{err}
	}
	defer r.cache.close()

	published, err := r.signAll(debs, &sum)
	if err != nil {
		return sum, err
	}
	key, err := r.storeKeyPackage(keyDeb)
	if err != nil {
		return sum, err
	}
	if err := r.publish(suites, published, key, &sum); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

func (r *runner) loadKeys() error {
	algo, err := relabel.ParseHashAlgo(orDefault(r.c.Hash, "sha256"))
	if err != nil || (algo != relabel.AlgoSHA256 && algo != relabel.AlgoSHA512) {
		return fmt.Errorf("hash algorithm (Hash) %q: want sha256 or sha512", r.c.Hash)
	}
	r.algo = algo
	if r.signer, err = relabel.LoadSigner(r.c.Key, r.c.Certificate); err != nil {
		return err
	}
	if r.cert, err = debsign.LoadCert(r.c.Certificate); err != nil {
		return err
	}
	if r.pgp, err = debarchive.LoadSigner(r.c.Signingkey, r.c.SigningkeyPasswordFile); err != nil {
		return err
	}
	if len(r.c.UpstreamKeyring) > 0 {
		if r.ring, err = debarchive.LoadKeyring(r.c.UpstreamKeyring...); err != nil {
			return err
		}
	}
	return nil
}

// identity names what a signed package depends on besides its upstream
// bytes: the certificate, the hash algorithm, the manifest's format.
func (r *runner) identity() string {
	h := sha256.New()
	h.Write(r.cert.DER)
	fmt.Fprintf(h, "\x00%s\x00imasigs-1", r.algo)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// lock takes the state directory's lock: one run at a time.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: another imaboot-debsign mirror run holds the lock", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// upstreamDeb is one distinct package of upstream's indexes.
type upstreamDeb struct {
	filename string
	size     int64
	sha256   string
}

// result is what the mirror publishes for one upstream package.
type result struct {
	sum      debarchive.Sum // of the published file (in the store)
	unsigned bool
}

// listDebs returns the packages upstream's indexes name, each once, by
// Filename. One Filename with two SHA256 is an upstream that contradicts
// itself.
func listDebs(suites []*suite) ([]upstreamDeb, error) {
	debs := map[string]upstreamDeb{}
	var order []string
	for _, s := range suites {
		for dir, stanzas := range s.packages {
			for _, p := range stanzas {
				d := upstreamDeb{filename: p.Value("Filename"), sha256: strings.ToLower(p.Value("SHA256"))}
				fmt.Sscan(p.Value("Size"), &d.size)
				if prev, ok := debs[d.filename]; ok {
					if prev.sha256 != d.sha256 {
						return nil, fmt.Errorf("%s/%s: %s is listed with two different SHA256", s.dir, dir, d.filename)
					}
					continue
				}
				debs[d.filename] = d
				order = append(order, d.filename)
			}
		}
	}
	sort.Strings(order)
	list := make([]upstreamDeb, len(order))
	for i, fn := range order {
		list[i] = debs[fn]
	}
	return list, nil
}

// signAll signs every listed package that the cache does not hold,
// Workers at a time, and returns the published file of each Filename
// (absent: left out).
func (r *runner) signAll(debs []upstreamDeb, sum *Summary) (map[string]result, error) {
	sum.Listed = len(debs)
	out := map[string]result{}
	var jobs []upstreamDeb
	for _, d := range debs {
		fn := d.filename
		if !filepath.IsLocal(fn) || !strings.HasSuffix(fn, ".deb") || !validSHA256.MatchString(d.sha256) {
			sum.Failures = append(sum.Failures, Failure{Filename: fn, Reason: fmt.Sprintf("upstream index entry is unusable (Filename %q, SHA256 %q)", fn, d.sha256), Corrupt: true})
			continue
		}
		if _, err := os.Stat(filepath.Join(r.c.Upstream, fn)); err != nil {
			sum.Missing++
			continue
		}
		if s, ok := r.cache.get(d.sha256); ok && r.store.has(s) {
			out[fn] = result{sum: s}
			sum.Reused++
			continue
		}
		jobs = append(jobs, d)
	}

	workers := r.c.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	t0 := time.Now()
	var mu sync.Mutex
	done := 0
	lastReport := time.Now()
	work := make(chan upstreamDeb)
	var stopped atomic.Pointer[error]
	var wg sync.WaitGroup
	for range min(workers, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				if stopped.Load() != nil {
					continue
				}
				res, n, files, f := r.signOne(d)
				if testHook != nil {
					if err := testHook("signed"); err != nil {
						stopped.Store(&err)
					}
				}
				mu.Lock()
				done++
				if f != nil {
					sum.Failures = append(sum.Failures, *f)
					fmt.Fprintf(r.progress, "imaboot-debsign mirror: FAILED %s: %s%s\n", f.Filename, f.Reason, map[bool]string{true: " (published unsigned)"}[f.Unsigned])
				}
				if res != nil {
					out[d.filename] = *res
					if f == nil {
						sum.Signed++
						sum.Bytes += n
						sum.Files += files
					}
				}
				if time.Since(lastReport) > 5*time.Second || done == len(jobs) {
					lastReport = time.Now()
					sec := time.Since(t0).Seconds()
					fmt.Fprintf(r.progress, "imaboot-debsign mirror: signed %d/%d packages, %.1f MB, %.1f packages/s, %d failed\n", done, len(jobs), float64(sum.Bytes)/1e6, float64(done)/sec, len(sum.Failures))
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range jobs {
		work <- d
	}
	close(work)
	wg.Wait()
	if err := stopped.Load(); err != nil {
		return nil, *err
	}
	sum.SignTime = time.Since(t0)
	sort.Slice(sum.Failures, func(i, j int) bool { return sum.Failures[i].Filename < sum.Failures[j].Filename })
	return out, nil
}

// testHook, when set, is called after each package is signed ("signed")
// and before dists/ is switched in ("switch"); an error stops the run
// there, as a kill would.
var testHook func(stage string) error

var validSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// signOne checks one upstream package against its index, signs it and
// stores it. A package that does not match its index is never published;
// one that cannot be signed is published unsigned only with PublishUnsigned.
func (r *runner) signOne(d upstreamDeb) (*result, int64, int, *Failure) {
	src := filepath.Join(r.c.Upstream, d.filename)
	b, err := os.ReadFile(src)
	if err != nil {
		return nil, 0, 0, &Failure{Filename: d.filename, Reason: err.Error()}
	}
	if got := debarchive.SHA256Hex(b); int64(len(b)) != d.size || got != d.sha256 {
		return nil, 0, 0, &Failure{Filename: d.filename, Corrupt: true,
			Reason: fmt.Sprintf("corrupt: %d bytes with SHA256 %s, upstream's index says %d bytes with SHA256 %s; not published", len(b), got, d.size, d.sha256)}
	}
	var res debsign.Result
	p, err := deb.Read(bytes.NewReader(b))
	if err == nil {
		res, err = debsign.SignPackage(p, r.signer, r.algo)
	}
	if err != nil {
		f := &Failure{Filename: d.filename, Reason: "cannot be signed: " + err.Error()}
		if !r.c.PublishUnsigned {
			f.Reason += "; left out"
			return nil, 0, 0, f
		}
		s, serr := r.store.write(func(w io.Writer) error { _, err := w.Write(b); return err })
		if serr != nil {
			f.Reason += "; " + serr.Error()
			return nil, 0, 0, f
		}
		f.Unsigned = true
		return &result{sum: s, unsigned: true}, 0, 0, f
	}
	s, err := r.store.write(p.Write)
	if err != nil {
		return nil, 0, 0, &Failure{Filename: d.filename, Reason: err.Error()}
	}
	if err := r.cache.put(d.sha256, s); err != nil {
		return nil, 0, 0, &Failure{Filename: d.filename, Reason: "cache: " + err.Error()}
	}
	return &result{sum: s}, int64(len(b)), res.Signed, nil
}

// keyPackage is the certificate's package (imaboot-debsign keypkg), made
// the same, byte for byte, on every run with the same certificate, signed
// and stored.
type keyPkg struct {
	filename string
	stanza   debarchive.Paragraph
	deb      *deb.Package
}

var nonName = regexp.MustCompile(`[^a-z0-9+.-]+`)

// buildKeyPackage makes and signs the key package in memory: a bad
// KeyPackage name or version is found before anything is written.
func (r *runner) buildKeyPackage() (keyPkg, error) {
	parsed, err := x509.ParseCertificate(r.cert.DER)
	if err != nil {
		return keyPkg{}, fmt.Errorf("certificate %s: %w", r.c.Certificate, err)
	}
	name := r.c.KeyPackage
	if name == "" {
		name = strings.Trim(nonName.ReplaceAllString(strings.ToLower(orDefault(r.c.Origin, "imaboot")), "-"), "-.+")
	}
	version := r.c.KeyPackageVersion
	if version == "" {
		version = parsed.NotBefore.UTC().Format("20060102.150405")
	}
	k := debsign.KeyPackage{Name: name, Version: version, Cert: r.cert, ModTime: parsed.NotBefore, Maintainer: "imaboot-debsign mirror <root@localhost>"}
	p, err := debsign.BuildKeyPackage(k)
	if err != nil {
		return keyPkg{}, err
	}
	if _, err := debsign.SignPackage(p, r.signer, r.algo); err != nil {
		return keyPkg{}, fmt.Errorf("sign the key package: %w", err)
	}
	ctl, err := p.ControlFiles()
	if err != nil {
		return keyPkg{}, err
	}
	var stanza debarchive.Paragraph
	for _, f := range ctl {
		if f.Name() == "control" {
			stanza, err = debarchive.ParseParagraph(f.Data)
			if err != nil {
				return keyPkg{}, err
			}
		}
	}
	pkg := stanza.Value("Package")
	fn := fmt.Sprintf("pool/%s/%s/%s/%s", r.c.Components[0], pkg[:1], pkg, k.FileName())
	stanza.Set("Filename", fn)
	return keyPkg{filename: fn, stanza: stanza, deb: p}, nil
}

// storeKeyPackage writes the key package to the store; its stanza gets the
// stored file's sums.
func (r *runner) storeKeyPackage(k keyPkg) (keyPkg, error) {
	s, err := r.store.write(k.deb.Write)
	if err != nil {
		return keyPkg{}, err
	}
	setSums(&k.stanza, s)
	return k, nil
}

// setSums gives a stanza the published file's size and checksums; the
// checksums the mirror does not compute are dropped.
func setSums(p *debarchive.Paragraph, s debarchive.Sum) {
	p.Set("Size", fmt.Sprint(s.Size))
	p.Set("MD5sum", s.Digests["MD5Sum"])
	p.Set("SHA256", s.Digests["SHA256"])
	p.Delete("SHA1")
	p.Delete("SHA512")
}
