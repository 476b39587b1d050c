package blockdev

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Options roots every path the lookup touches, so tests can point it at a
// fake sysfs tree and a directory of image files.
type Options struct {
	SysRoot string // where sysfs is mounted; "" means /sys
	DevRoot string // where device nodes are; "" means /dev
	// Debug, when set, hears about devices that could not be read.
	Debug func(format string, args ...any)
}

func (o Options) sysRoot() string {
	if o.SysRoot == "" {
		return "/sys"
	}
	return o.SysRoot
}

func (o Options) devRoot() string {
	if o.DevRoot == "" {
		return "/dev"
	}
	return o.DevRoot
}

func (o Options) debug(format string, args ...any) {
	if o.Debug != nil {
		o.Debug(format, args...)
	}
}

// device is one entry of /sys/class/block.
type device struct {
	Name      string
	DevNum    string // "MAJOR:MINOR" from the dev file
	Sectors   int64  // size in 512-byte sectors, -1 when unknown
	Partition int    // partition number, 0 for a whole disk
	Parent    string // the disk a partition belongs to
}

func (o Options) classBlock() string { return filepath.Join(o.sysRoot(), "class", "block") }

// readAttr reads a one-line sysfs attribute.
func readAttr(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

// listDevices reads /sys/class/block in name order.
func (o Options) listDevices() ([]device, error) {
	dir := o.classBlock()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	devs := make([]device, 0, len(names))
	for _, name := range names {
		devs = append(devs, o.readDevice(name))
	}
	return devs, nil
}

// readDevice reads one device's attributes; missing ones stay zero.
func (o Options) readDevice(name string) device {
	base := filepath.Join(o.classBlock(), name)
	d := device{Name: name, Sectors: -1}
	d.DevNum, _ = readAttr(filepath.Join(base, "dev"))
	if s, err := readAttr(filepath.Join(base, "size")); err == nil {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			d.Sectors = n
		}
	}
	if s, err := readAttr(filepath.Join(base, "partition")); err == nil {
		d.Partition, _ = strconv.Atoi(s)
		d.Parent = o.parentOf(name)
	}
	return d
}

// parentOf finds the disk holding a partition: in sysfs a partition's
// directory sits inside its disk's (…/block/vda/vda1), and class/block/NAME
// is a link to it.
func (o Options) parentOf(name string) string {
	link := filepath.Join(o.classBlock(), name)
	if real, err := filepath.EvalSymlinks(link); err == nil && real != link {
		parent := filepath.Dir(real)
		if _, err := os.Stat(filepath.Join(parent, "dev")); err == nil {
			return filepath.Base(parent)
		}
	}
	return ""
}

// sectorSize is the disk's logical block size, which GPT and MBR sector
// numbers count in; 512 when sysfs does not say.
func (o Options) sectorSize(disk string) int {
	s, err := readAttr(filepath.Join(o.classBlock(), disk, "queue", "logical_block_size"))
	if n, err2 := strconv.Atoi(s); err == nil && err2 == nil && n >= 512 {
		return n
	}
	return 512
}

// devPath is the node of a device name under DevRoot.
func (o Options) devPath(name string) string { return filepath.Join(o.devRoot(), name) }

// Probe reads the superblock at path and, when path is a node under
// DevRoot whose sysfs entry is a partition, the parent disk's table entry
// (PartUUID, PartLabel, PartNum). A partition with no known file system
// still returns its partition fields along with the *NotFileSystemError.
func (o Options) Probe(path string) (Info, error) {
	info, fsErr := probeSuperblock(path)
	if fsErr != nil && !errors.Is(fsErr, ErrNotFileSystem) {
		return Info{}, fsErr
	}
	rel, err := filepath.Rel(o.devRoot(), path)
	if err != nil || strings.HasPrefix(rel, "..") || strings.ContainsRune(rel, filepath.Separator) {
		return info, fsErr
	}
	d := o.readDevice(rel)
	if d.Partition == 0 || d.Parent == "" {
		return info, fsErr
	}
	t, err := ReadTable(o.devPath(d.Parent), o.sectorSize(d.Parent))
	if err != nil {
		return info, fmt.Errorf("probe %s: partition %d: %w", path, d.Partition, err)
	}
	info.setPartition(t, d.Partition)
	return info, fsErr
}

// setPartition copies table entry n into info.
func (i *Info) setPartition(t Table, n int) {
	i.PartNum = n
	if p, ok := t.Lookup(n); ok {
		i.PartUUID, i.PartLabel = p.UUID, p.Name
	}
}
