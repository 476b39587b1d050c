// Package kmod finds, orders and loads Linux kernel modules, without modprobe.
//
// In order of use:
//   - FindDir locates a kernel's module tree inside an extracted kernel
//     package (lib/modules/KVER or usr/lib/modules/KVER).
//   - Open indexes that tree: module name -> relative path, with
//     dependencies taken from modules.dep when the tree has one, else from
//     each module's own .modinfo section (depends=), read lazily and
//     decompressing .ko.xz and .ko.gz as needed.
//   - Index.Resolve orders the requested modules and their dependencies for
//     loading (dependencies first, each once), refusing cycles and missing
//     modules with the name of the module that needs them.
//   - WriteDep writes a standard modules.dep for a chosen subset, so that an
//     initramfs carries only what it loads.
//   - Load, at boot, reads the modules.dep of a module directory, resolves
//     the requested names and loads each module with finit_module(2) — never
//     init_module, which IMA cannot appraise — passing the kernel's
//     decompression flag for compressed files.
//
// Names are compared after normalising '-' to '_', as the kernel does.
package kmod
