package images_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/images"
	"github.com/u-root/u-root/pkg/cpio"
)

// Builds images from the Debian kernels in the git-ignored cache
// (.cache/kernels/{bookworm,trixie}/root, or $IMABOOT_CACHE/kernels/...);
// skips when the cache is absent.
func TestRealKernels(t *testing.T) {
	cache := filepath.Join("..", ".cache")
	if c := os.Getenv("IMABOOT_CACHE"); c != "" {
		cache = c
	}
	for suite, want := range map[string][]string{
		"bookworm": {"virtio_ring.ko", "virtio.ko", "virtio_pci_modern_dev.ko", "virtio_pci_legacy_dev.ko", "virtio_pci.ko", "virtio_blk.ko"},
		"trixie":   {"virtio_blk.ko.xz"}, // virtio_pci and its helpers are built in
	} {
		root := filepath.Join(cache, "kernels", suite, "root")
		if _, err := os.Stat(root); err != nil {
			t.Skipf("kernel cache %s absent", root)
		}
		var b bytes.Buffer
		rep, err := images.Build(&b, images.Spec{KernelRoot: root, Modules: []string{"virtio_pci", "virtio_blk"}, NoCompress: true})
		if err != nil {
			t.Fatalf("%s: %v", suite, err)
		}
		var mods []string
		recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b.Bytes())))
		if err != nil {
			t.Fatal(err)
		}
		var dep string
		for _, r := range recs {
			if strings.Contains(r.Name, ".ko") {
				mods = append(mods, filepath.Base(r.Name))
			}
			if strings.HasSuffix(r.Name, "/modules.dep") {
				d, _ := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
				dep = string(d)
			}
		}
		if len(mods) != len(want) {
			t.Errorf("%s: modules %v, want %v", suite, mods, want)
		}
		for _, w := range want {
			if !strings.Contains(dep, "/"+w+":") {
				t.Errorf("%s: modules.dep lacks %s:\n%s", suite, w, dep)
			}
		}
		t.Logf("%s (%s): %d entries, %d bytes uncompressed", suite, rep.KernelVersion, len(rep.Entries), rep.Bytes)
	}
}
