package kmod

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ulikunitz/xz"
)

// ReadModinfo returns the key=value pairs of a module file's .modinfo ELF
// section (keys such as alias and parm repeat, so values are lists).
// .ko, .ko.xz and .ko.gz files are read; .ko.zst is refused (no zstd
// decoder here: trees with zstd modules need their modules.dep).
func ReadModinfo(file string) (map[string][]string, error) {
	img, err := ReadImage(file)
	if err != nil {
		return nil, err
	}
	data, err := elfSection(img, ".modinfo")
	if err != nil {
		return nil, fmt.Errorf("read modinfo of %s: not an ELF module: %w", file, err)
	}
	if data == nil {
		return nil, fmt.Errorf("read modinfo of %s: no .modinfo section", file)
	}
	return parseModinfo(data), nil
}

// parseModinfo splits a .modinfo section: NUL-separated "key=value"
// strings, with NUL padding between some of them.
func parseModinfo(data []byte) map[string][]string {
	info := map[string][]string{}
	for _, s := range bytes.Split(data, []byte{0}) {
		k, v, ok := strings.Cut(string(s), "=")
		if !ok {
			continue
		}
		info[k] = append(info[k], v)
	}
	return info
}

// dependsOf returns the normalised module names of a modinfo's depends=
// field (a comma list, often empty).
func dependsOf(info map[string][]string) []string {
	var deps []string
	for _, v := range info["depends"] {
		for _, d := range strings.Split(v, ",") {
			if d = Normalize(d); d != "" {
				deps = append(deps, d)
			}
		}
	}
	return deps
}

// ReadImage returns a module file's ELF image, decompressed (.ko.xz and
// .ko.gz; .ko.zst is refused).
func ReadImage(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read module %s: %w", file, err)
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(file, ".ko.xz"):
		xr, err := xz.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("read module %s: xz: %w", file, err)
		}
		r = xr
	case strings.HasSuffix(file, ".ko.gz"):
		gr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("read module %s: gzip: %w", file, err)
		}
		defer gr.Close()
		r = gr
	case strings.HasSuffix(file, ".ko.zst"):
		return nil, fmt.Errorf("read module %s: %w", file, errZstd)
	}
	img, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read module %s: decompress: %w", file, err)
	}
	return img, nil
}

var errZstd = errors.New("zstd-compressed modules cannot be read here; give the tree a modules.dep (depmod -b)")
