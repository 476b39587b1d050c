package keyload

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Closing a keyring once its certificates are in.
//
// _ima and _evm, made by user space on kernels without
// CONFIG_INTEGRITY_TRUSTED_KEYRING (Debian's), take any certificate root
// adds later, and IMA then verifies signatures with it. The kernel lets a
// keyring be restricted exactly once (KEYCTL_RESTRICT_KEYRING; a second
// restriction is EEXIST, and none can be lifted), and a restriction applies
// to add_key and to linking an existing key alike. Seal's restriction has
// no key type (the kernel's restrict_link_reject): every later add or link
// is EPERM, for root too. What is in the ring when it is sealed stays, and
// so does what is in a keyring linked inside it.
//
// How this composes with a ring that takes only certificates signed by the
// owner's CA (the Secure Boot trust mode): _ima itself cannot carry the CA
// restriction and be sealed (one restriction per keyring), so the CA
// restriction goes on a keyring made inside it (_ima_ca, restricted to
// "asymmetric key_or_keyring:<CA serial>"), and _ima is sealed at once,
// before any certificate is loaded, with the CA keyring already linked in:
// IMA searches _ima recursively, so certificates loaded into _ima_ca verify
// signatures, and nothing else can enter _ima. That early Seal returns the
// ring marked Sealed; the seal-keyrings step's Seal of that value then only
// counts what the ring holds. Closing _ima_ca itself to further CA-signed
// certificates is its owner's business (it takes its write permission
// away), not a second restriction.

// SealReport says how one keyring was closed.
type SealReport struct {
	// Ring is the ring, marked Sealed unless the kernel restricted it.
	Ring KernelKeyring
	// How: "sealed" (no-type restriction), "kernel-restricted" (the
	// kernel's own trusted .ima/.evm), or, for a CA keyring
	// (CloseCAKeyring), "CA keyring closed" or "CA keyring open".
	How string
	// Keys is how many keys (a nested keyring counts as one) the ring
	// held when it was closed.
	Keys int
}

func (r SealReport) String() string {
	switch r.How {
	case "kernel-restricted":
		return fmt.Sprintf("%s: the kernel's own keyring, restricted by the kernel to certificates signed by its trusted keys", r.Ring)
	case "CA keyring closed":
		return fmt.Sprintf("%s closed, %d key(s), each signed by the owner's CA %q: no add or link for anyone, for good (no write, link or setattr)", r.Ring, r.Keys, r.Ring.CA.Subject)
	case "CA keyring open":
		return fmt.Sprintf("%s open to certificates the owner's CA %q signed, %d key(s)", r.Ring, r.Ring.CA.Subject, r.Keys)
	}
	return fmt.Sprintf("%s sealed, %d key(s): every later add or link is refused (EPERM)", r.Ring, r.Keys)
}

// Seal closes ring to every later key with the no-type restriction. It may
// come before or after loading (see above); a ring it already sealed
// (ring.Sealed) is not restricted again. The kernel's trusted .ima/.evm are
// left as the kernel restricted them. A ring that already carries a
// restriction Seal did not put there (EEXIST) is an error: nothing here can
// tell what that restriction lets in.
func Seal(ring KernelKeyring) (SealReport, error) {
	rep := SealReport{Ring: ring}
	if ring.Trusted {
		rep.How = "kernel-restricted"
		return rep, nil
	}
	if !ring.Sealed {
		err := unix.KeyctlRestrictKeyring(ring.ID, "", "")
		switch {
		case errors.Is(err, unix.EEXIST):
			return rep, fmt.Errorf("seal %s: it already carries a restriction imaboot did not set (EEXIST): what it admits cannot be vouched for", ring)
		case err != nil:
			return rep, fmt.Errorf("seal %s: KEYCTL_RESTRICT_KEYRING: %s: %w", ring, unix.ErrnoName(ringErrno(err)), err)
		}
		rep.Ring.Sealed = true
	}
	rep.How = "sealed"
	n, err := RingKeys(ring.ID)
	if err != nil {
		return rep, fmt.Errorf("seal %s: closed, but %w", ring, err)
	}
	rep.Keys = len(n)
	return rep, nil
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
