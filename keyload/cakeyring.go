package keyload

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// A CA keyring makes _ima (or _evm) accept only certificates that one key
// the kernel trusts, the owner's CA, signed:
//
//	_ima              closed to every add and link (a restriction without a type)
//	└── _ima_ca       restricted to "asymmetric key_or_keyring:<CA serial>"
//	    └── release certificates, each verified by the kernel against the CA
//
// IMA and EVM search the keyring they use recursively (keyring_search with
// recurse, security/integrity/digsig_asymmetric.c), so a certificate in
// _ima_ca verifies signatures as if it were in _ima itself.
//
// _ima is sealed (Seal) as soon as _ima_ca is linked in, before any
// certificate is loaded; Seal marks the ring it returns Sealed, so the
// seal-keyrings step's Seal of it later only reports (seal.go).
//
// Why not restrict _ima itself to the CA: a keyring takes one restriction
// for its life (a second one gives EEXIST), so _ima restricted to the CA
// could never be closed against more CA-signed certificates afterwards, and
// closing it (as sealing does) would drop the CA check. Why not restrict _ima
// to a private keyring holding a link to the CA: the kernel gives root view
// and read of the keys in .machine and .builtin_trusted_keys, not link
// (KEYCTL_LINK gives EACCES, seen on 6.1 and 6.12). The restriction itself
// names the CA by serial and keeps a reference to it, which needs no
// permission (asymmetric_lookup_restriction uses key_lookup).
//
// Closing the CA keyring after loading is a change of permissions, not a
// second restriction: with write, link and setattr taken from everyone,
// possessor included, no add_key or link can reach it and nobody can give
// the permissions back (KEYCTL_SETPERM needs setattr; root has no
// override). Its restriction stays, so even a keyring left open
// (KEYRINGS=open) takes only CA-signed certificates.

// caRingPerm while loading: the possessor (the agent) may do everything;
// owner, group and others view, read and search, as for _ima (ringPerm).
const caRingPerm = 0x3f0b0b0b

// Permissions once loaded: view, read and search only, for everyone
// (closed), or write kept for the possessor and the owner (open: more
// CA-signed certificates may be added, e.g. a new release certificate
// without a reboot). Neither keeps setattr, so neither can be changed.
const (
	caRingClosedPerm = 0x0b0b0b0b
	caRingOpenPerm   = 0x0f0f0b0b
)

// OpenCAKeyring creates, inside parent (_ima or _evm), a keyring named
// parent's name + "_ca" that accepts only certificates signed by ca, then
// seals parent (Seal) so that nothing else can enter it. It returns the CA
// keyring, to load certificates into and then CloseCAKeyring, and parent as
// Seal returned it (marked Sealed), for the caller's later Seal to report.
func OpenCAKeyring(parent KernelKeyring, ca TrustedKey) (ring, sealed KernelKeyring, err error) {
	if parent.Trusted {
		return KernelKeyring{}, parent, fmt.Errorf("the kernel's own %s keyring is restricted by the kernel to keys signed by %s or %s; it cannot be narrowed to the owner's CA", parent.Name, RingBuiltin, RingSecondary)
	}
	name := parent.Name + "_ca"
	id, err := unix.AddKey("keyring", name, nil, parent.ID)
	if err != nil {
		return KernelKeyring{}, parent, fmt.Errorf("create keyring %s in %s: %s: %w", name, parent, unix.ErrnoName(ringErrno(err)), err)
	}
	ring = KernelKeyring{Name: name, ID: id, Created: true, CA: &ca}
	if err := unix.KeyctlSetperm(id, caRingPerm); err != nil {
		return ring, parent, fmt.Errorf("set permissions %#x on %s: %s: %w", caRingPerm, ring, unix.ErrnoName(ringErrno(err)), err)
	}
	restriction := fmt.Sprintf("key_or_keyring:%d", ca.Serial)
	if err := unix.KeyctlRestrictKeyring(id, "asymmetric", restriction); err != nil {
		return ring, parent, fmt.Errorf("restrict %s to asymmetric %s (the owner's CA %s): %s: %w", ring, restriction, ca, unix.ErrnoName(ringErrno(err)), err)
	}
	rep, err := Seal(parent)
	if err != nil {
		return ring, parent, fmt.Errorf("close %s to keys outside %s: %w", parent, name, err)
	}
	return ring, rep.Ring, nil
}

// CloseCAKeyring takes write (and, always, setattr and link) away from a
// CA keyring once its certificates are loaded; with open set
// (KEYRINGS=open), the possessor and the owner keep write, so more
// certificates the CA signed may be added. It reports as Seal does, How
// "CA keyring closed" or "CA keyring open".
func CloseCAKeyring(ring KernelKeyring, open bool) (SealReport, error) {
	rep := SealReport{Ring: ring, How: "CA keyring closed"}
	perm := uint32(caRingClosedPerm)
	if open {
		rep.How, perm = "CA keyring open", caRingOpenPerm
	}
	if err := unix.KeyctlSetperm(ring.ID, perm); err != nil {
		return rep, fmt.Errorf("close %s (permissions %#x): %s: %w", ring, perm, unix.ErrnoName(ringErrno(err)), err)
	}
	keys, err := RingKeys(ring.ID)
	if err != nil {
		return rep, fmt.Errorf("close %s: closed, but %w", ring, err)
	}
	rep.Keys = len(keys)
	return rep, nil
}
