package deb

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// File is a file of a package being built.
type File struct {
	Path string // absolute, as installed
	Mode int64
	Data []byte
}

// Build writes a new package: control (the control file's text), optional
// conffiles, and files (their parent directories are added), all owned by
// root, with mtime, gzip-compressed.
func Build(control string, conffiles []string, files []File, mtime time.Time) ([]byte, error) {
	if !strings.HasSuffix(control, "\n") {
		control += "\n"
	}
	ctl := []File{{Path: "/control", Mode: 0o644, Data: []byte(control)}}
	if len(conffiles) > 0 {
		ctl = append(ctl, File{Path: "/conffiles", Mode: 0o644, Data: []byte(strings.Join(conffiles, "\n") + "\n")})
	}
	ctlTar, err := tarOf(ctl, mtime)
	if err != nil {
		return nil, err
	}
	dataTar, err := tarOf(files, mtime)
	if err != nil {
		return nil, err
	}
	ts := mtime.Unix()
	return writeAr([]Member{
		{Name: "debian-binary", Mtime: ts, Mode: 0o100644, Data: []byte("2.0\n")},
		{Name: "control.tar.gz", Mtime: ts, Mode: 0o100644, Data: gzipBytes(ctlTar)},
		{Name: "data.tar.gz", Mtime: ts, Mode: 0o100644, Data: gzipBytes(dataTar)},
	})
}

// tarOf writes files and their directories as "./"-relative entries.
func tarOf(files []File, mtime time.Time) ([]byte, error) {
	dirs := map[string]bool{"/": true}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	hdr := func(name string, mode int64) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Uname: "root", Gname: "root", ModTime: mtime, Format: tar.FormatGNU}
	}
	for _, d := range names {
		h := hdr("."+strings.TrimSuffix(d, "/")+"/", 0o755)
		h.Typeflag = tar.TypeDir
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	for _, f := range sorted {
		if !strings.HasPrefix(f.Path, "/") {
			return nil, fmt.Errorf("package file %q is not absolute", f.Path)
		}
		h := hdr("."+f.Path, f.Mode)
		h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
