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

	"github.com/imaboot/imaboot/kmod"
)

// Build writes the initramfs described by s to w.
func Build(w io.Writer, s Spec) (*Report, error) {
	t := tree{}
	rep := &Report{}
	if err := addSkeleton(t); err != nil {
		return nil, err
	}
	if s.Init != "" {
		if err := t.addHost(s.Init, InitPath, 0o755, "--init "+s.Init); err != nil {
			return nil, err
		}
	}
	if err := addModules(t, s, rep); err != nil {
		return nil, err
	}
	if s.Config != "" {
		if err := t.addHost(s.Config, ConfigPath, 0o644, "--config "+s.Config); err != nil {
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
	cw := &countingWriter{w: w}
	entries, err := t.writeArchive(cw, s.NoCompress)
	if err != nil {
		return nil, err
	}
	rep.Entries, rep.Bytes = entries, cw.n
	return rep, nil
}

// BuildFile writes the image to file, replacing it only once complete.
func BuildFile(file string, s Spec) (*Report, error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return nil, fmt.Errorf("write initramfs %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	rep, err := Build(tmp, s)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		return nil, fmt.Errorf("write initramfs %s: %w", file, err)
	}
	return rep, nil
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
