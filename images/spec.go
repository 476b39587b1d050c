package images

import "github.com/imaboot/imaboot/kmod"

// Paths inside the initramfs that the boot agent reads.
const (
	InitPath        = "/init"
	ConfigPath      = "/etc/imaboot/imaboot.conf"
	ModulesLoadPath = "/etc/imaboot/modules.load"
	NewRootPath     = "/newroot"
)

// Spec says what goes into an initramfs. Host paths may be relative.
type Spec struct {
	// Init is the host file installed as /init ("" for none, e.g. an
	// image to be appended to another).
	Init string
	// KernelRoot is an extracted kernel package (dpkg -x) or "/", holding
	// lib/modules/KVER or usr/lib/modules/KVER.
	KernelRoot string
	// KernelVersion picks the module tree; "" means the only one there.
	KernelVersion string
	// Modules are module names to include with their dependencies; they
	// are listed in /etc/imaboot/modules.load in this order.
	Modules []string
	// DecompressModules stores compressed modules decompressed (.ko.xz ->
	// .ko), for kernels that cannot decompress them. Build also does so on
	// its own when the kernel package's boot/config-KVER lacks
	// CONFIG_MODULE_DECOMPRESS=y.
	DecompressModules bool
	// Config is the host file installed as /etc/imaboot/imaboot.conf.
	Config string
	// Files are single files (or symlinks) to add; Dirs are directory
	// trees to add recursively. Permission bits are kept.
	Files []Mapping
	Dirs  []Mapping
	// Data adds generated content without a host file.
	Data []DataFile
	// NoCompress writes the bare cpio archive (the kernel accepts both).
	NoCompress bool
}

// Mapping copies host path Src to absolute initramfs path Dst.
type Mapping struct {
	Src, Dst string
}

// DataFile is a regular file given by its contents.
type DataFile struct {
	Dst  string
	Data []byte
	Mode uint32 // permission bits; 0 means 0644
}

// Report says what Build put in the image.
type Report struct {
	KernelVersion string        // "" when no module tree was used
	Modules       []kmod.Module // in load order, built-in ones included; paths as in the image
	Decompressed  bool          // compressed modules were stored decompressed
	Entries       []string      // every path, in archive order
	Bytes         int64         // size of the image written
}
