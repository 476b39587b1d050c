package keyload

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// KernelKeyring is a kernel keyring that certificates are added to.
type KernelKeyring struct {
	Name string // ".ima", "_ima", …
	ID   int    // kernel key serial
	// Trusted is set for the kernel's own keyring
	// (CONFIG_INTEGRITY_TRUSTED_KEYRING): it only accepts certificates
	// signed by a key in .builtin_trusted_keys (or .secondary_trusted_keys).
	Trusted bool
	// Created is set when OpenFallbackKeyring made the keyring.
	Created bool
	// Sealed is set on the ring Seal returns: it carries Seal's no-type
	// restriction, so a later Seal only reports (seal.go).
	Sealed bool
	// CA is set for a keyring that takes only certificates signed by this
	// trusted key (OpenCAKeyring).
	CA *TrustedKey
}

func (k KernelKeyring) String() string { return fmt.Sprintf("%s (key %d)", k.Name, k.ID) }

// RingSpec says where to find or make one of the integrity keyrings.
type RingSpec struct {
	// Trusted is the name of the keyring the kernel creates when built with
	// CONFIG_INTEGRITY_TRUSTED_KEYRING, looked up in ProcKeys.
	Trusted string
	// Fallback is the keyring the kernel searches for otherwise; it is found
	// in, or created in, Parent.
	Fallback string
	// Parent holds Fallback. Zero means the user keyring (@u), which the
	// user-session keyring of every root process links to; tests pass a
	// session keyring.
	Parent int
	// ProcKeys is the keys list to find Trusted in; "" means /proc/keys.
	ProcKeys string
}

// The two keyrings IMA and EVM verify signatures with.
var (
	IMARing = RingSpec{Trusted: ".ima", Fallback: "_ima"}
	EVMRing = RingSpec{Trusted: ".evm", Fallback: "_evm"}
)

// ringPerm lets the possessor do everything and the owner (root) view, read,
// write and search; group and others may view, read and search the public
// certificates. The kernel's own lookup (request_key from the task that
// triggers the first appraisal) needs search.
const ringPerm = 0x3f0f0b0b

// TrustedKeyring looks for the kernel's trusted keyring for spec (e.g.
// .ima, with CONFIG_INTEGRITY_TRUSTED_KEYRING) in /proc/keys, readable by
// root, as dracut's `keyctl describe %keyring:.ima` also finds it; ok is
// false when the kernel has none. It only reads, so the boot agent looks
// while it waits for the root device.
//
// An unreadable keys list is an error rather than a silent fallback: on a
// kernel with trusted keyrings an _ima keyring would never be consulted.
func TrustedKeyring(spec RingSpec) (k KernelKeyring, ok bool, err error) {
	if spec.Trusted == "" {
		return KernelKeyring{}, false, nil
	}
	procKeys := spec.ProcKeys
	if procKeys == "" {
		procKeys = "/proc/keys"
	}
	id, err := ringFindInProcKeys(procKeys, spec.Trusted)
	if err != nil || id == 0 {
		return KernelKeyring{}, false, err
	}
	return KernelKeyring{Name: spec.Trusted, ID: id, Trusted: true}, true, nil
}

// OpenFallbackKeyring finds spec.Fallback (e.g. _ima) under Parent, or
// creates it there with permissions that let the kernel's lookup find it
// for every process.
func OpenFallbackKeyring(spec RingSpec) (KernelKeyring, error) {
	parent := spec.Parent
	if parent == 0 {
		parent = unix.KEY_SPEC_USER_KEYRING
	}
	id, err := unix.KeyctlSearch(parent, "keyring", spec.Fallback, 0)
	if err == nil {
		return KernelKeyring{Name: spec.Fallback, ID: id}, nil
	}
	if !errors.Is(err, unix.ENOKEY) {
		return KernelKeyring{}, fmt.Errorf("search keyring %s in %s: %s: %w", spec.Fallback, ringParentName(parent), unix.ErrnoName(ringErrno(err)), err)
	}
	id, err = unix.AddKey("keyring", spec.Fallback, nil, parent)
	if err != nil {
		return KernelKeyring{}, fmt.Errorf("create keyring %s in %s: %s: %w", spec.Fallback, ringParentName(parent), unix.ErrnoName(ringErrno(err)), err)
	}
	if err := unix.KeyctlSetperm(id, ringPerm); err != nil {
		return KernelKeyring{}, fmt.Errorf("set permissions %#x on keyring %s (key %d): %s: %w", ringPerm, spec.Fallback, id, unix.ErrnoName(ringErrno(err)), err)
	}
	return KernelKeyring{Name: spec.Fallback, ID: id, Created: true}, nil
}

// ringFindInProcKeys returns the serial of the keyring called name in a
// /proc/keys listing, or 0. Lines look like
//
//	0d2a3b4c I------     1 perm 1f0b0000     0     0 keyring   .ima: empty
func ringFindInProcKeys(path, name string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("look for keyring %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 9 || fields[7] != "keyring" {
			continue
		}
		if strings.TrimSuffix(fields[8], ":") != name {
			continue
		}
		id, err := strconv.ParseUint(fields[0], 16, 32)
		if err != nil {
			return 0, fmt.Errorf("look for keyring %s: %s: bad key serial %q", name, path, fields[0])
		}
		return int(id), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("look for keyring %s: read %s: %w", name, path, err)
	}
	return 0, nil
}

func ringParentName(id int) string {
	switch id {
	case unix.KEY_SPEC_USER_KEYRING:
		return "@u"
	case unix.KEY_SPEC_SESSION_KEYRING:
		return "@s"
	case unix.KEY_SPEC_USER_SESSION_KEYRING:
		return "@us"
	case unix.KEY_SPEC_PROCESS_KEYRING:
		return "@p"
	}
	return fmt.Sprintf("key %d", id)
}

func ringErrno(err error) unix.Errno {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return 0
}

// keyRead is KEYCTL_READ of key id (what = "keyring", "encrypted key", for
// the error), with a buffer grown to what the kernel says it holds.
func keyRead(id int, what string) ([]byte, error) {
	buf := make([]byte, 4096)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("read %s %d: %s: %w", what, id, unix.ErrnoName(ringErrno(err)), err)
		}
		if n <= len(buf) {
			return buf[:n], nil
		}
		buf = make([]byte, n)
	}
}
