package mirror

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/imaboot/imaboot/debarchive"
	"github.com/imaboot/imaboot/internal/atomicfile"
)

// The state directory, inside Basedir so that every rename stays on one
// file system. Web servers and rsync should leave it out.
const stateDir = ".imaboot-mirror"

// store holds the published packages by content: store/ab/abcd….deb, named
// by SHA-256. Pool files are hard links to them, so a pool name that gets
// new content is switched by one rename, and a file, once written, never
// changes.
type store struct{ dir string }

func (s store) path(sha256 string) string {
	return filepath.Join(s.dir, sha256[:2], sha256+".deb")
}

// write stores what fill writes, synced, and returns its checksums.
func (s store) write(fill func(io.Writer) error) (debarchive.Sum, error) {
	tmp, err := os.CreateTemp(s.dir, "incoming-*")
	if err != nil {
		return debarchive.Sum{}, err
	}
	defer os.Remove(tmp.Name())
	h := debarchive.NewHasher()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return debarchive.Sum{}, fmt.Errorf("store: %w", err)
	}
	sum := h.Sum()
	dst := s.path(sum.Digests["SHA256"])
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return sum, err
	}
	if st, err := os.Stat(dst); err == nil && st.Size() == sum.Size {
		return sum, nil // the same content, stored before: keep its inode (the pool links to it)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return sum, err
	}
	return sum, os.Rename(tmp.Name(), dst)
}

// has reports whether the store holds sum's file whole.
func (s store) has(sum debarchive.Sum) bool {
	st, err := os.Stat(s.path(sum.Digests["SHA256"]))
	return err == nil && st.Size() == sum.Size
}

// cache remembers, for one signing identity (certificate, hash algorithm,
// manifest format), which stored file each upstream package was signed
// into: "IDENTITY UPSTREAM-SHA256 SIGNED-SHA256 SIZE MD5" lines, appended as
// packages are signed so that an interrupted run resumes.
type cache struct {
	path     string
	identity string
	mu       sync.Mutex
	entries  map[string]debarchive.Sum // upstream SHA-256 -> signed file
	f        *os.File
}

func openCache(path, identity string) (*cache, error) {
	c := &cache{path: path, identity: identity, entries: map[string]debarchive.Sum{}}
	if b, err := os.ReadFile(path); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) != 5 || f[0] != identity {
				continue // another identity's, or a line cut by a crash
			}
			size, err := strconv.ParseInt(f[3], 10, 64)
			if err != nil || len(f[2]) != 64 {
				continue
			}
			c.entries[f[1]] = debarchive.Sum{Size: size, Digests: map[string]string{"SHA256": f[2], "MD5Sum": f[4]}}
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	c.f = f
	return c, nil
}

func (c *cache) get(upstream string) (debarchive.Sum, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.entries[upstream]
	return s, ok
}

func (c *cache) put(upstream string, s debarchive.Sum) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[upstream] = s
	_, err := fmt.Fprintf(c.f, "%s %s %s %d %s\n", c.identity, upstream, s.Digests["SHA256"], s.Size, s.Digests["MD5Sum"])
	return err
}

// compact rewrites the cache with the entries keep accepts.
func (c *cache) compact(keep func(debarchive.Sum) bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for up, s := range c.entries {
		if keep(s) {
			fmt.Fprintf(&b, "%s %s %s %d %s\n", c.identity, up, s.Digests["SHA256"], s.Size, s.Digests["MD5Sum"])
		}
	}
	c.f.Close()
	// Not a fixed PATH.new: a symlink planted there would be written through.
	return atomicfile.Write(c.path, []byte(b.String()), 0o644)
}

func (c *cache) close() { c.f.Close() }
