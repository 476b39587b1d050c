package blockdev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrNotFound is matched (errors.Is) by NotFoundError and TimeoutError.
var ErrNotFound = errors.New("root device not found")

// NotFoundError says no block device matches a spec, and which devices
// were there, so a wrong UUID can be told from a missing driver.
type NotFoundError struct {
	Spec string
	Seen []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("root device %q not found (%s)", e.Spec, seenList(e.Seen))
}

// Is lets errors.Is(err, ErrNotFound) match.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// TimeoutError is Wait giving up.
type TimeoutError struct {
	Spec    string
	Timeout time.Duration
	Seen    []string
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("root device %q did not appear within %s (%s)", e.Spec, e.Timeout, seenList(e.Seen))
}

// Is lets errors.Is(err, ErrNotFound) match.
func (e *TimeoutError) Is(target error) bool { return target == ErrNotFound }

func seenList(seen []string) string {
	if len(seen) == 0 {
		return "no block devices seen"
	}
	return "block devices seen: " + strings.Join(seen, ", ")
}

// ErrAmbiguous is returned when more than one device matches: booting
// whichever came first would let a plugged-in stick with the same label
// stand in for the root disk.
var ErrAmbiguous = errors.New("matches more than one device")

// Find returns the device node (under DevRoot) that spec names, a
// *NotFoundError when none does yet, or an error wrapping ErrAmbiguous when
// several do (except the members of one multi-device btrfs).
func Find(spec string, o Options) (string, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return "", err
	}
	return o.find(sp)
}

func (o Options) find(sp Spec) (string, error) {
	if sp.Kind == ByPath {
		p := o.devPath(strings.TrimPrefix(sp.Value, "/dev/"))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		devs, _ := o.listDevices() // only to say what was there
		return "", &NotFoundError{Spec: sp.Raw, Seen: names(devs)}
	}
	devs, err := o.listDevices()
	if err != nil {
		return "", fmt.Errorf("find root device %q: %w", sp.Raw, err)
	}
	notFound := &NotFoundError{Spec: sp.Raw, Seen: names(devs)}
	if sp.Kind == ByDevNum {
		want := fmt.Sprintf("%d:%d", sp.Major, sp.Minor)
		for _, d := range devs {
			if d.DevNum == want {
				if p := o.devPath(d.Name); exists(p) {
					return p, nil
				}
			}
		}
		return "", notFound
	}
	var hits []device
	var infos []Info
	tables := map[string]*Table{} // each disk's table read once per scan
	for _, d := range devs {
		if d.Sectors == 0 {
			continue // empty loop or drive without medium: nothing to read
		}
		info, err := o.probeFor(sp, d, tables)
		if err != nil {
			o.debug("blockdev: skip %s: %v", d.Name, err)
			continue
		}
		if sp.matches(info) {
			hits = append(hits, d)
			infos = append(infos, info)
		}
	}
	switch {
	case len(hits) == 0:
		return "", notFound
	case len(hits) > 1 && !sameBtrfs(infos):
		return "", fmt.Errorf("root device %q %w: %s", sp.Raw, ErrAmbiguous, strings.Join(names(hits), ", "))
	}
	hit := hits[0]
	if sp.PartNrOffset != 0 {
		n := hit.Partition + sp.PartNrOffset
		for _, d := range devs {
			if d.Parent != "" && d.Parent == hit.Parent && d.Partition == n {
				return o.devPath(d.Name), nil
			}
		}
		return "", notFound
	}
	return o.devPath(hit.Name), nil
}

// probeFor reads only what the spec compares: the superblock for UUID= and
// LABEL=, the parent disk's table for PARTUUID= and PARTLABEL=.
func (o Options) probeFor(sp Spec, d device, tables map[string]*Table) (Info, error) {
	switch sp.Kind {
	case ByUUID, ByLabel:
		return probeSuperblock(o.devPath(d.Name))
	}
	if d.Partition == 0 || d.Parent == "" {
		return Info{}, nil
	}
	t, ok := tables[d.Parent]
	if !ok {
		tt, err := ReadTable(o.devPath(d.Parent), o.sectorSize(d.Parent))
		if err != nil {
			o.debug("blockdev: %v", err)
		} else {
			t = &tt
		}
		tables[d.Parent] = t
	}
	var info Info
	if t != nil {
		info.setPartition(*t, d.Partition)
	}
	return info, nil
}

// sameBtrfs: a btrfs spanning several devices shows its UUID on each, and
// mounting any one of them mounts the file system.
func sameBtrfs(infos []Info) bool {
	for _, i := range infos {
		if i.FSType != "btrfs" {
			return false
		}
	}
	return true
}

func names(devs []device) []string {
	out := make([]string, len(devs))
	for i, d := range devs {
		out[i] = d.Name
	}
	return out
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Wait calls Find every poll until the device appears, the timeout passes
// (a *TimeoutError naming the devices seen) or ctx ends. A spec that cannot
// be parsed, an ambiguous match or an unreadable sysfs end it at once.
// timeout <= 0 means a single look.
func Wait(ctx context.Context, spec string, o Options, timeout, poll time.Duration) (string, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return "", err
	}
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	deadline := time.Now().Add(timeout)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		path, err := o.find(sp)
		var nf *NotFoundError
		if err == nil || !errors.As(err, &nf) {
			return path, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return "", &TimeoutError{Spec: spec, Timeout: timeout, Seen: nf.Seen}
		}
		timer.Reset(min(poll, left))
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for root device %q: %w (%s)", spec, ctx.Err(), seenList(nf.Seen))
		case <-timer.C:
		}
	}
}
