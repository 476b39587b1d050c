package relabel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// pseudoFS are file systems whose files are not installed software: never labeled.
var pseudoFS = map[int64]string{
	unix.PROC_SUPER_MAGIC:    "proc",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.DEVPTS_SUPER_MAGIC:  "devpts",
	0x62656570:               "configfs",
	0x65735543:               "fusectl",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.CGROUP_SUPER_MAGIC:  "cgroup",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2",
	unix.PSTOREFS_MAGIC:      "pstore",
	unix.BPF_FS_MAGIC:        "bpf",
	unix.SELINUX_MAGIC:       "selinuxfs",
	unix.SMACK_MAGIC:         "smackfs",
	unix.EFIVARFS_MAGIC:      "efivarfs",
	0x19800202:               "mqueue",
	unix.HUGETLBFS_MAGIC:     "hugetlbfs",
	unix.BINFMTFS_MAGIC:      "binfmt_misc",
	unix.NSFS_MAGIC:          "nsfs",
	unix.AUTOFS_SUPER_MAGIC:  "autofs",
	unix.SOCKFS_MAGIC:        "sockfs",
	unix.PIPEFS_MAGIC:        "pipefs",
	unix.ANON_INODE_FS_MAGIC: "anon_inodefs",
	unix.DEVMEM_MAGIC:        "devmem",
}

func pseudoFSName(path string) (string, error) {
	var s unix.Statfs_t
	if err := unix.Statfs(path, &s); err != nil {
		return "", fmt.Errorf("statfs %s: %w", path, err)
	}
	return pseudoFS[int64(s.Type)], nil
}

// walkItem is one regular file found by the walker.
type walkItem struct {
	path string // as opened
	rel  string // path inside the target root, "/etc/passwd"
	size int64
}

// walker lists regular files under the given paths, streaming them to a channel.
type walker struct {
	root      string // target root, absolute and clean
	oneFS     bool
	excludes  []string
	skipped   func(path, why string)
	walkError func(path string, err error)
}

// inRoot maps a real path to its path inside the target root.
func (w *walker) inRoot(p string) string {
	if w.root == "/" {
		return p
	}
	r, err := filepath.Rel(w.root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return p
	}
	return "/" + strings.TrimPrefix(r, ".")
}

func (w *walker) excluded(p, rel string) bool {
	for _, pat := range w.excludes {
		if matchPathPattern(pat, p) || (rel != p && matchPathPattern(pat, rel)) {
			return true
		}
	}
	return false
}

// matchPathPattern: a pattern without '/' matches a base name; one with '/' matches the
// whole path; without glob characters a pattern also matches everything under it.
func matchPathPattern(pat, p string) bool {
	if !strings.Contains(pat, "/") {
		ok, _ := filepath.Match(pat, filepath.Base(p))
		return ok
	}
	pat = filepath.Clean(pat)
	if ok, _ := filepath.Match(pat, p); ok {
		return true
	}
	return !strings.ContainsAny(pat, "*?[") && strings.HasPrefix(p, pat+"/")
}

// walk sends every regular file under paths to out, in directory order. It stops when
// ctx is done.
func (w *walker) walk(ctx context.Context, paths []string, out chan<- walkItem) {
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			w.walkError(p, fmt.Errorf("lstat: %w", err))
			continue
		}
		if name, err := pseudoFSName(p); err == nil && name != "" {
			w.skipped(p, "pseudo file system "+name)
			continue
		}
		if !w.visit(ctx, p, &st, st.Dev, out) {
			return
		}
	}
}

func (w *walker) visit(ctx context.Context, p string, st *unix.Stat_t, dev uint64, out chan<- walkItem) bool {
	if ctx.Err() != nil {
		return false
	}
	rel := w.inRoot(p)
	if w.excluded(p, rel) {
		w.skipped(p, "excluded")
		return true
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		select {
		case out <- walkItem{path: p, rel: rel, size: st.Size}:
			return true
		case <-ctx.Done():
			return false
		}
	case unix.S_IFDIR:
	case unix.S_IFLNK:
		w.skipped(p, "symlink")
		return true
	default:
		w.skipped(p, "special file")
		return true
	}
	if st.Dev != dev {
		if w.oneFS {
			w.skipped(p, "other file system")
			return true
		}
		if name, err := pseudoFSName(p); err != nil || name != "" {
			w.skipped(p, "pseudo file system "+name)
			return true
		}
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		w.walkError(p, fmt.Errorf("read directory: %w", err))
		if len(ents) == 0 {
			return true
		}
	}
	for _, e := range ents {
		c := filepath.Join(p, e.Name())
		var cst unix.Stat_t
		if err := unix.Lstat(c, &cst); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.walkError(c, fmt.Errorf("lstat: %w", err))
			}
			continue
		}
		if !w.visit(ctx, c, &cst, dev, out) {
			return false
		}
	}
	return true
}
