package dpkglabel

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/imasigs"
)

// Labels belong to inodes. When the root is a directory inside a larger
// file system, a file of the root with several hard links may share its
// inode with a name outside the root: labeling it would label a file the
// run was never asked to touch. Such files are labeled only once every one
// of their links was found among the names the packages list under the
// root; the others are refused.

// inode identifies a file.
type inode struct{ dev, ino uint64 }

// sharedFile is a signed file whose label waits for the link count check.
type sharedFile struct {
	pkg   string
	where string // path inside the root
	entry imasigs.Entry
	id    inode
	links uint64
}

// linkCheck collects the names found for each inode with several links.
// It is off (nil) when the root is a whole file system.
type linkCheck struct {
	mu    sync.Mutex
	names map[inode]map[string]bool
}

func newLinkCheck(root *Root) (*linkCheck, error) {
	whole, err := root.wholeFileSystem()
	if err != nil || whole {
		return nil, err
	}
	return &linkCheck{names: map[inode]map[string]bool{}}, nil
}

// saw records that where is a name of f's inode; it reports whether f has
// more than one link (and must wait for the check).
func (lc *linkCheck) saw(f *os.File, where string) (sharedFile, bool) {
	if lc == nil {
		return sharedFile{}, false
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Nlink < 2 {
		return sharedFile{}, false
	}
	id := inode{st.Dev, st.Ino}
	lc.mu.Lock()
	if lc.names[id] == nil {
		lc.names[id] = map[string]bool{}
	}
	lc.names[id][where] = true
	lc.mu.Unlock()
	return sharedFile{where: where, id: id, links: uint64(st.Nlink)}, true
}

// found is how many names of id were seen under the root.
func (lc *linkCheck) found(id inode) uint64 {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return uint64(len(lc.names[id]))
}

// wholeFileSystem reports whether the root directory is the root of a
// whole file system (its mount shows the file system from its own root),
// so that every hard link of a file in it is in it too.
func (r *Root) wholeFileSystem() (bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(r.fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID|unix.STATX_INO, &stx); err != nil {
		return false, fmt.Errorf("root %s: statx: %w", r.dir, err)
	}
	if stx.Mask&unix.STATX_MNT_ID == 0 {
		return false, nil // an old kernel: assume a part of a file system
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, nil // no /proc: assume a part of a file system
	}
	defer f.Close()
	real, err := filepath.EvalSymlinks(r.dir)
	if err != nil {
		return false, nil
	}
	real, _ = filepath.Abs(real)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...
		fld := strings.Fields(sc.Text())
		if len(fld) < 5 || fld[0] != fmt.Sprint(stx.Mnt_id) {
			continue
		}
		return unescapeMount(fld[3]) == "/" && unescapeMount(fld[4]) == real, nil
	}
	return false, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// labelShared labels the files that waited for the link count check, or
// reports those with links outside the root.
func labelShared(root *Root, lb Labeling, waiting []sharedFile, results map[string]*PackageResult) {
	lc := lb.links
	lb.links = nil
	for _, s := range waiting {
		res := results[s.pkg]
		if n := lc.found(s.id); n < s.links {
			res.Mismatches = append(res.Mismatches, fmt.Errorf("%s: %d hard links, %d of them listed under %s, which is not a whole file system: the inode may be reached from outside it; not labeled",
				root.Name(s.where), s.links, n, root.dir))
			continue
		}
		f, err := root.openFile(s.where)
		if err != nil {
			res.Mismatches = append(res.Mismatches, fmt.Errorf("%s: %w", root.Name(s.where), err))
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(int(f.Fd()), &st) != nil || (inode{st.Dev, st.Ino}) != s.id {
			res.Mismatches = append(res.Mismatches, fmt.Errorf("%s: replaced during the run; not labeled", root.Name(s.where)))
		} else {
			res.applyFile(root, s.where, f, s.entry, lb)
		}
		f.Close()
	}
}
