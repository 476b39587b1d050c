package images

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

type kind int

const (
	kindDir kind = iota
	kindFile
	kindSymlink
	kindCharDev
)

// node is one future archive entry.
type node struct {
	kind     kind
	perm     uint32 // permission bits, setuid/setgid/sticky included
	src      string // host file for kindFile, when data is nil
	data     []byte // contents for kindFile, or the symlink target
	size     int64
	major    uint32 // device number for kindCharDev
	minor    uint32
	origin   string // what asked for it, for conflict messages
	implicit bool   // a parent directory nobody asked for
}

// tree is the image's content keyed by clean relative path ("etc/imaboot").
type tree map[string]*node

// cleanDst turns an absolute image path into the archive's relative form.
func cleanDst(dst string) (string, error) {
	if !strings.HasPrefix(dst, "/") {
		return "", fmt.Errorf("destination %q must be an absolute path in the image", dst)
	}
	c := path.Clean(dst)
	if c == "/" {
		return "", fmt.Errorf("destination %q is the image's root", dst)
	}
	return strings.TrimPrefix(c, "/"), nil
}

// add records n at dst, creating parent directories; two requests for one
// path are an error naming both, except directories, which merge.
func (t tree) add(dst string, n *node) error {
	rel, err := cleanDst(dst)
	if err != nil {
		return fmt.Errorf("%s: %w", n.origin, err)
	}
	for p := path.Dir(rel); p != "."; p = path.Dir(p) {
		old, ok := t[p]
		if !ok {
			t[p] = &node{kind: kindDir, perm: 0o755, origin: n.origin, implicit: true}
			continue
		}
		if old.kind != kindDir {
			return fmt.Errorf("%s: /%s needs /%s to be a directory, but %s put a file there", n.origin, rel, p, old.origin)
		}
	}
	old, ok := t[rel]
	switch {
	case !ok:
		t[rel] = n
	case old.kind == kindDir && n.kind == kindDir:
		if old.implicit && !n.implicit {
			t[rel] = n
		}
	default:
		return fmt.Errorf("/%s is given twice: by %s and by %s", rel, old.origin, n.origin)
	}
	return nil
}

func (t tree) addDir(dst string, perm uint32, origin string) error {
	return t.add(dst, &node{kind: kindDir, perm: perm, origin: origin})
}

func (t tree) addData(dst string, data []byte, perm uint32, origin string) error {
	return t.add(dst, &node{kind: kindFile, perm: perm, data: data, size: int64(len(data)), origin: origin})
}

func (t tree) addCharDev(dst string, perm, major, minor uint32) error {
	return t.add(dst, &node{kind: kindCharDev, perm: perm, major: major, minor: minor, origin: "the image skeleton"})
}

// addHost adds one host file or symlink (not following it), with its
// permission bits unless perm overrides them (perm != 0).
func (t tree) addHost(src, dst string, perm uint32, origin string) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("%s: %w", origin, err)
	}
	return t.addHostInfo(src, dst, fi, perm, origin)
}

func (t tree) addHostInfo(src, dst string, fi fs.FileInfo, perm uint32, origin string) error {
	if perm == 0 {
		perm = permBits(fi.Mode())
	}
	switch {
	case fi.Mode().IsRegular():
		if fi.Size() > 0xffffffff {
			return fmt.Errorf("%s: %s is %d bytes; newc cpio holds at most 4 GiB a file", origin, src, fi.Size())
		}
		return t.add(dst, &node{kind: kindFile, perm: perm, src: src, size: fi.Size(), origin: origin})
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return fmt.Errorf("%s: %w", origin, err)
		}
		return t.add(dst, &node{kind: kindSymlink, perm: 0o777, data: []byte(target), size: int64(len(target)), origin: origin})
	case fi.IsDir():
		return t.add(dst, &node{kind: kindDir, perm: perm, origin: origin})
	}
	return fmt.Errorf("%s: %s is a %v, which the image cannot hold", origin, src, fi.Mode().Type())
}

// addHostFile adds a host file that must be a regular file (after
// following a symlink): /init, the configuration.
func (t tree) addHostFile(src, dst string, perm uint32, origin string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("%s: %w", origin, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %s is a %s, not a regular file", origin, src, kindName(fi.Mode()))
	}
	return t.addHostInfo(src, dst, fi, perm, origin)
}

func kindName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return m.Type().String()
}

// addHostTree adds a host directory and everything under it at dst.
func (t tree) addHostTree(src, dst, origin string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("%s: %w", origin, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", origin, src)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", origin, err)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("%s: %w", origin, err)
		}
		return t.addHostInfo(p, path.Join(dst, filepath.ToSlash(rel)), info, 0, origin)
	})
}

// permBits keeps the permission, setuid, setgid and sticky bits in Unix form.
func permBits(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}
