package images

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/imaboot/imaboot/internal/atomicfile"
	"github.com/imaboot/imaboot/kmod"
)

// Image is an initramfs assembled from a Spec and not written yet: every
// input was found and every path is known, so it can be checked (Lookup)
// before anything is written.
type Image struct {
	t          tree
	rep        *Report
	noCompress bool
}

// Assemble finds everything s asks for: host files are checked and their
// sizes taken now, their contents read when the image is written.
func Assemble(s Spec) (*Image, error) {
	t := tree{}
	rep := &Report{}
	if err := addSkeleton(t); err != nil {
		return nil, err
	}
	if s.Init != "" {
		if err := t.addHostFile(s.Init, InitPath, 0o755, "--init "+s.Init); err != nil {
			return nil, err
		}
	}
	if err := addModules(t, s, rep); err != nil {
		return nil, err
	}
	if s.Config != "" {
		if err := t.addHostFile(s.Config, ConfigPath, 0o644, "--config "+s.Config); err != nil {
			return nil, err
		}
	}
	for _, m := range s.Files {
		origin := "--file " + m.Src + ":" + m.Dst
		fi, err := os.Lstat(m.Src)
		if err == nil && fi.IsDir() {
			return nil, fmt.Errorf("%s: %s is a directory (use a directory mapping)", origin, m.Src)
		}
		if err := t.addHost(m.Src, m.Dst, 0, origin); err != nil {
			return nil, err
		}
	}
	for _, m := range s.Dirs {
		if err := t.addHostTree(m.Src, m.Dst, "--dir "+m.Src+":"+m.Dst); err != nil {
			return nil, err
		}
	}
	for _, d := range s.Data {
		perm := d.Mode
		if perm == 0 {
			perm = 0o644
		}
		if err := t.addData(d.Dst, d.Data, perm, "generated "+d.Dst); err != nil {
			return nil, err
		}
	}
	return &Image{t: t, rep: rep, noCompress: s.NoCompress}, nil
}

// Lookup returns the content of the regular file at path in the image and
// a name for it in messages: the host file it is copied from, else path.
// ok is false when the image has no regular file there.
func (im *Image) Lookup(path string) (data []byte, name string, ok bool, err error) {
	rel, err := cleanDst(path)
	if err != nil {
		return nil, "", false, err
	}
	n, found := im.t[rel]
	if !found || n.kind != kindFile {
		return nil, "", false, nil
	}
	if n.data != nil || n.src == "" {
		return n.data, path, true, nil
	}
	data, err = os.ReadFile(n.src)
	if err != nil {
		return nil, n.origin, false, fmt.Errorf("%s: %w", n.origin, err)
	}
	return data, n.src, true, nil
}

// KernelVersion is the module tree's kernel version, "" without one.
func (im *Image) KernelVersion() string { return im.rep.KernelVersion }

// Write writes the image to w.
func (im *Image) Write(w io.Writer) (*Report, error) {
	cw := &countingWriter{w: w}
	entries, err := im.t.writeArchive(cw, im.noCompress)
	if err != nil {
		return nil, err
	}
	rep := *im.rep
	rep.Entries, rep.Bytes = entries, cw.n
	return &rep, nil
}

// WriteFile writes the image to file, replacing it only once complete
// (internal/atomicfile: a fresh temporary file beside it, then a rename).
func (im *Image) WriteFile(file string) (*Report, error) {
	var rep *Report
	err := atomicfile.WriteFrom(file, 0o644, func(w io.Writer) error {
		var err error
		rep, err = im.Write(w)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// Build writes the initramfs described by s to w.
func Build(w io.Writer, s Spec) (*Report, error) {
	im, err := Assemble(s)
	if err != nil {
		return nil, err
	}
	return im.Write(w)
}

// BuildFile writes the image to file, replacing it only once complete.
// Nothing is written when an input is missing.
func BuildFile(file string, s Spec) (*Report, error) {
	im, err := Assemble(s)
	if err != nil {
		return nil, err
	}
	return im.WriteFile(file)
}

// addSkeleton lays out what the kernel and the agent expect before any
// file system is mounted.
func addSkeleton(t tree) error {
	for _, d := range []string{"/dev", "/proc", "/sys", "/run", NewRootPath, path.Dir(ConfigPath)} {
		if err := t.addDir(d, 0o755, "the image skeleton"); err != nil {
			return err
		}
	}
	// The kernel opens /dev/console for init's stdio before devtmpfs exists.
	if err := t.addCharDev("/dev/console", 0o600, 5, 1); err != nil {
		return err
	}
	return t.addCharDev("/dev/null", 0o666, 1, 3)
}

// addModules copies the requested modules and their dependencies with a
// modules.dep for just those. With a kernel root but no modules it still
// adds the (empty) module directory and modules.builtin, so the agent can
// tell built-in modules from missing ones.
func addModules(t tree, s Spec, rep *Report) error {
	if s.KernelRoot == "" {
		if len(s.Modules) > 0 {
			return fmt.Errorf("modules %v asked for without a kernel root to take them from", s.Modules)
		}
		return nil
	}
	dir, kver, err := kmod.FindDir(s.KernelRoot, s.KernelVersion)
	if err != nil {
		return err
	}
	x, err := kmod.Open(dir)
	if err != nil {
		return err
	}
	mods, err := x.Resolve(s.Modules)
	if err != nil {
		return fmt.Errorf("resolve modules for kernel %s: %w", kver, err)
	}
	decompress := s.DecompressModules
	if !decompress {
		if decompress, err = lacksDecompress(s.KernelRoot, kver); err != nil {
			return err
		}
	}
	rep.KernelVersion, rep.Modules, rep.Decompressed = kver, mods, decompress
	base := "/lib/modules/" + kver
	origin := "modules of " + kver
	for i, m := range mods {
		if m.Builtin {
			continue
		}
		src := filepath.Join(dir, filepath.FromSlash(m.Path))
		if decompress && kmod.IsCompressed(m.Path) {
			img, err := kmod.ReadImage(src)
			if err != nil {
				return err
			}
			mods[i].Path = kmod.UncompressedPath(m.Path)
			if err := t.addData(base+"/"+mods[i].Path, img, 0o644, origin); err != nil {
				return err
			}
			continue
		}
		if err := t.addHost(src, base+"/"+m.Path, 0o644, origin); err != nil {
			return err
		}
	}
	var dep bytes.Buffer
	if err := kmod.WriteDep(&dep, mods); err != nil {
		return err
	}
	if err := t.addData(base+"/"+kmod.DepFile, dep.Bytes(), 0o644, origin); err != nil {
		return err
	}
	builtin, err := os.ReadFile(filepath.Join(dir, kmod.BuiltinFile))
	switch {
	case err == nil:
		if err := t.addData(base+"/"+kmod.BuiltinFile, builtin, 0o644, origin); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read %s: %w", kmod.BuiltinFile, err)
	}
	var list []string
	seen := map[string]bool{}
	for _, n := range s.Modules {
		if n = kmod.Normalize(n); n != "" && !seen[n] {
			seen[n] = true
			list = append(list, n)
		}
	}
	if len(list) > 0 {
		if err := t.addData(ModulesLoadPath, kmod.FormatList(list, nil), 0o644, origin); err != nil {
			return err
		}
	}
	return nil
}

// lacksDecompress reports whether the kernel package's configuration says
// the kernel cannot decompress modules itself. Without a configuration file
// there is nothing to go by: modules stay as shipped.
func lacksDecompress(root, kver string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(root, "boot", "config-"+kver))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the kernel configuration: %w", err)
	}
	return !bytes.Contains(data, []byte("\nCONFIG_MODULE_DECOMPRESS=y\n")), nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
