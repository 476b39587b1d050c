package keyload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// Closing a keyring once its certificates are in.
//
// _ima and _evm, made by user space on kernels without
// CONFIG_INTEGRITY_TRUSTED_KEYRING (Debian's), take any certificate root
// adds later, and IMA then verifies signatures with it. The kernel lets a
// keyring be restricted exactly once (KEYCTL_RESTRICT_KEYRING; a second
// restriction is EEXIST, and none can be lifted), and a restriction applies
// to add_key and to linking an existing key alike. Two restrictions end
// "sealed":
//
//   - Seal's own: no key type (the kernel's restrict_link_reject), so every
//     later add or link is EPERM, for root too.
//   - A trust-anchor restriction set before loading (RestrictToAnchor:
//     "key_or_keyring:<anchor>", only certificates signed by a key in the
//     anchor keyring may enter; the Secure Boot trust mode puts the owner's
//     CA there). Once the certificates are in, Seal closes the anchor: it
//     empties it and restricts it with no type, so the ring then takes only
//     certificates signed by a key in a keyring that is empty and can never
//     be filled. With ":chain" the kernel also accepts a certificate signed
//     by a key already in the ring itself: only the holder of a loaded
//     certificate's private key can make one.
//
// Either way the caller calls Seal last; which restriction the ring carries
// is in KernelKeyring.Anchor.

// SealReport says how one keyring was closed.
type SealReport struct {
	Ring KernelKeyring
	// How: "sealed" (no-type restriction), "anchor closed" (a trust-anchor
	// restriction whose anchor is now empty and closed) or
	// "kernel-restricted" (the kernel's own trusted .ima/.evm).
	How string
	// Keys is how many keys the ring held when it was closed.
	Keys int
}

func (r SealReport) String() string {
	switch r.How {
	case "kernel-restricted":
		return fmt.Sprintf("%s: the kernel's own keyring, restricted by the kernel to certificates signed by its trusted keys", r.Ring)
	case "anchor closed":
		return fmt.Sprintf("%s sealed, %d key(s): takes only certificates signed by a key in keyring %d, which is now empty and closed", r.Ring, r.Keys, r.Ring.Anchor)
	}
	return fmt.Sprintf("%s sealed, %d key(s): every later add or link is refused (EPERM)", r.Ring, r.Keys)
}

// Seal closes ring to every later key: see above for the two restrictions
// that end sealed. The kernel's trusted .ima/.evm are left as the kernel
// restricted them. A ring that already carries a restriction Seal does not
// know (EEXIST with no Anchor) is an error: nothing here can tell what that
// restriction lets in.
func Seal(ring KernelKeyring) (SealReport, error) {
	rep := SealReport{Ring: ring}
	if ring.Trusted {
		rep.How = "kernel-restricted"
		return rep, nil
	}
	if ring.Anchor != 0 {
		if err := closeAnchor(ring.Anchor); err != nil {
			return rep, fmt.Errorf("seal %s: %w", ring, err)
		}
		rep.How = "anchor closed"
	} else {
		err := unix.KeyctlRestrictKeyring(ring.ID, "", "")
		switch {
		case errors.Is(err, unix.EEXIST):
			return rep, fmt.Errorf("seal %s: it already carries a restriction imaboot did not set (EEXIST): what it admits cannot be vouched for", ring)
		case err != nil:
			return rep, fmt.Errorf("seal %s: KEYCTL_RESTRICT_KEYRING: %s: %w", ring, unix.ErrnoName(ringErrno(err)), err)
		}
		rep.How = "sealed"
	}
	n, err := RingKeys(ring.ID)
	if err != nil {
		return rep, fmt.Errorf("seal %s: closed, but %w", ring, err)
	}
	rep.Keys = len(n)
	return rep, nil
}

// closeAnchor empties the anchor keyring and restricts it with no type, so
// nothing can be linked into it again. An anchor already closed (EEXIST on
// the restriction, nothing in it) is fine: Seal may run twice.
func closeAnchor(anchor int) error {
	if _, err := unix.KeyctlInt(unix.KEYCTL_CLEAR, anchor, 0, 0, 0); err != nil {
		return fmt.Errorf("empty the trust anchor keyring %d: %s: %w", anchor, unix.ErrnoName(ringErrno(err)), err)
	}
	err := unix.KeyctlRestrictKeyring(anchor, "", "")
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("close the trust anchor keyring %d: %s: %w", anchor, unix.ErrnoName(ringErrno(err)), err)
	}
	if keys, err := RingKeys(anchor); err != nil || len(keys) != 0 {
		return fmt.Errorf("the trust anchor keyring %d is not empty after clearing (%d keys, %v)", anchor, len(keys), err)
	}
	return nil
}

// RestrictToAnchor restricts ring, before anything is loaded, to
// certificates signed by a key in the anchor keyring (with chain, also by a
// key already in ring): the kernel's "key_or_keyring:<anchor>[:chain]"
// restriction of asymmetric keys. It returns ring with Anchor set, which
// Seal later closes. A ring that is already restricted gives EEXIST: the
// restriction must be the first thing done to a new ring.
func RestrictToAnchor(ring KernelKeyring, anchor int, chain bool) (KernelKeyring, error) {
	restriction := "key_or_keyring:" + strconv.Itoa(anchor)
	if chain {
		restriction += ":chain"
	}
	if err := unix.KeyctlRestrictKeyring(ring.ID, "asymmetric", restriction); err != nil {
		return ring, fmt.Errorf("restrict %s to %q: %s: %w", ring, restriction, unix.ErrnoName(ringErrno(err)), err)
	}
	ring.Anchor = anchor
	return ring, nil
}

// RingKeys lists the serials of the keys linked in keyring id
// (KEYCTL_READ of a keyring: an array of 32-bit serials).
func RingKeys(id int) ([]int, error) {
	data, err := keyRead(id, "keyring")
	if err != nil {
		return nil, err
	}
	keys := make([]int, 0, len(data)/4)
	for i := 0; i+4 <= len(data); i += 4 {
		keys = append(keys, int(int32(binary.NativeEndian.Uint32(data[i:]))))
	}
	return keys, nil
}
