package images

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/u-root/u-root/pkg/cpio"
)

// gzipLevel is fixed so that the same inputs give the same bytes.
const gzipLevel = gzip.BestCompression

// paths returns the tree's paths sorted; a parent sorts before its children.
func (t tree) paths() []string {
	ps := make([]string, 0, len(t))
	for p := range t {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// writeArchive writes the tree as a newc archive to w, compressed unless
// raw, and returns the paths in archive order.
func (t tree) writeArchive(w io.Writer, raw bool) ([]string, error) {
	var gz *gzip.Writer
	if !raw {
		// A zero Header: no name, mtime 0, so the bytes depend on content only.
		gz, _ = gzip.NewWriterLevel(w, gzipLevel)
		w = gz
	}
	cw := cpio.Newc.Writer(w)
	ps := t.paths()
	for i, p := range ps {
		rec, err := t[p].record(p, uint64(i+1))
		if err != nil {
			return nil, err
		}
		if err := cw.WriteRecord(rec); err != nil {
			if c, ok := rec.ReaderAt.(io.Closer); ok {
				c.Close()
			}
			return nil, fmt.Errorf("write /%s to the archive: %w", p, err)
		}
	}
	if err := cpio.WriteTrailer(cw); err != nil {
		return nil, fmt.Errorf("write the archive trailer: %w", err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return nil, fmt.Errorf("finish gzip stream: %w", err)
		}
	}
	return ps, nil
}

// record makes the cpio record for n; host files are opened here and
// closed by the cpio writer once copied.
func (n *node) record(name string, ino uint64) (cpio.Record, error) {
	info := cpio.Info{Name: name, Ino: ino, NLink: 1}
	var rec cpio.Record
	switch n.kind {
	case kindDir:
		info.Mode = cpio.S_IFDIR | uint64(n.perm)
		info.NLink = 2
		return cpio.Record{Info: info}, nil
	case kindCharDev:
		info.Mode = cpio.S_IFCHR | uint64(n.perm)
		info.Rmajor, info.Rminor = uint64(n.major), uint64(n.minor)
		return cpio.Record{Info: info}, nil
	case kindSymlink:
		info.Mode = cpio.S_IFLNK | 0o777
		return cpio.StaticRecord(n.data, info), nil
	}
	info.Mode = cpio.S_IFREG | uint64(n.perm)
	if n.data != nil || n.src == "" {
		return cpio.StaticRecord(n.data, info), nil
	}
	f, err := os.Open(n.src)
	if err != nil {
		return rec, fmt.Errorf("%s: %w", n.origin, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return rec, fmt.Errorf("%s: %w", n.origin, err)
	}
	if fi.Size() != n.size {
		f.Close()
		return rec, fmt.Errorf("%s: %s changed size while the image was built (%d, now %d bytes)", n.origin, n.src, n.size, fi.Size())
	}
	info.FileSize = uint64(n.size)
	return cpio.Record{ReaderAt: f, Info: info}, nil
}
