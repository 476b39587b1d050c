package images_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/images"
	"github.com/u-root/u-root/pkg/cpio"
)

// imageFiles returns the regular files of an uncompressed image by path.
func imageFiles(t *testing.T, s images.Spec) map[string][]byte {
	t.Helper()
	s.NoCompress = true
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(build(t, s))))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, r := range recs {
		if r.Mode&cpio.S_IFMT == cpio.S_IFREG {
			b := make([]byte, r.FileSize)
			r.ReadAt(b, 0)
			files[r.Name] = b
		}
	}
	return files
}

func TestDecompressModules(t *testing.T) {
	in := newInputs(t)
	m := "lib/modules/" + kver + "/"
	config := filepath.Join(in.dir, "kroot/boot/config-"+kver)
	os.MkdirAll(filepath.Dir(config), 0o755)
	for name, tc := range map[string]struct {
		config string // "" = no config file
		force  bool
		want   bool // stored decompressed
	}{
		"as shipped without config": {"", false, false},
		"kernel decompresses":       {"CONFIG_MODULES=y\nCONFIG_MODULE_DECOMPRESS=y\n", false, false},
		"kernel cannot decompress":  {"CONFIG_MODULES=y\n# CONFIG_MODULE_DECOMPRESS is not set\n", false, true},
		"forced":                    {"", true, true},
	} {
		os.Remove(config)
		if tc.config != "" {
			os.WriteFile(config, []byte(tc.config), 0o644)
		}
		s := in.spec
		s.DecompressModules = tc.force
		files := imageFiles(t, s)
		ko, kept := files[m+"kernel/block/virtio-blk.ko"], files[m+"kernel/block/virtio-blk.ko.xz"]
		if tc.want {
			if !bytes.HasPrefix(ko, []byte("\x7fELF")) || kept != nil {
				t.Errorf("%s: want virtio-blk.ko decompressed (ELF) and no .ko.xz", name)
			}
			if dep := string(files[m+"modules.dep"]); !strings.Contains(dep, "kernel/block/virtio-blk.ko: kernel/virtio_ring.ko kernel/virtio.ko\n") {
				t.Errorf("%s: modules.dep does not name the decompressed files:\n%s", name, dep)
			}
		} else if ko != nil || !bytes.HasPrefix(kept, []byte("\xfd7zXZ")) {
			t.Errorf("%s: want virtio-blk.ko.xz kept as shipped", name)
		}
	}
}
