package kmod

import (
	"path"
	"strings"
)

// Compression suffixes a module file may carry after ".ko". The kernel
// decompresses them itself when built with MODULE_DECOMPRESS.
var compressedSuffixes = []string{".xz", ".gz", ".zst"}

// Normalize returns the canonical form of a module name: the kernel treats
// '-' and '_' in module names as the same character.
func Normalize(name string) string {
	return strings.ReplaceAll(strings.TrimSpace(name), "-", "_")
}

// NameFromPath returns the normalised module name of a module file path
// ("kernel/drivers/block/virtio_blk.ko.xz" -> "virtio_blk") and whether the
// path names a module file at all.
func NameFromPath(p string) (string, bool) {
	base := path.Base(p)
	for _, s := range compressedSuffixes {
		if strings.HasSuffix(base, ".ko"+s) {
			base = strings.TrimSuffix(base, s)
			break
		}
	}
	name, ok := strings.CutSuffix(base, ".ko")
	if !ok || name == "" {
		return "", false
	}
	return Normalize(name), true
}

// IsCompressed reports whether a module file is compressed (and so must be
// loaded with MODULE_INIT_COMPRESSED_FILE).
func IsCompressed(p string) bool {
	for _, s := range compressedSuffixes {
		if strings.HasSuffix(p, ".ko"+s) {
			return true
		}
	}
	return false
}

// UncompressedPath returns p without its compression suffix
// ("a/b.ko.xz" -> "a/b.ko").
func UncompressedPath(p string) string {
	for _, s := range compressedSuffixes {
		if strings.HasSuffix(p, ".ko"+s) {
			return strings.TrimSuffix(p, s)
		}
	}
	return p
}
