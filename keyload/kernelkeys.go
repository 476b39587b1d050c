package keyload

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The kernel's keyrings of keys it trusts for its own purposes. A Machine
// Owner Key (a certificate enrolled with mokutil and MokManager) reaches
// .machine when shim sets MokListTrustedRT, and .machine is then linked into
// .secondary_trusted_keys; without MokListTrustedRT the kernel puts it in
// .platform, which it trusts for kexec only.
const (
	RingBuiltin   = ".builtin_trusted_keys"
	RingSecondary = ".secondary_trusted_keys"
	RingMachine   = ".machine"
	RingPlatform  = ".platform"
)

// trustRings are searched for an owner's CA, in this order; .platform is
// read only to say why a CA found there is not used.
var trustRings = []string{RingMachine, RingSecondary, RingBuiltin, RingPlatform}

// TrustedKey is one asymmetric key held in the kernel's trusted keyrings.
type TrustedKey struct {
	Serial int
	// Subject is the kernel's name for the certificate (its CN, else O,
	// else e-mail), ID the hex after it in the key's description: the
	// certificate's SubjectKeyIdentifier (its serial number when it has
	// none). The kernel shows nothing else of a trusted key: it never hands
	// the certificate back.
	Subject, ID string
	// Rings holds the trusted keyrings that hold the key, directly or
	// through a keyring linked into them (.secondary_trusted_keys holds
	// .machine and .builtin_trusted_keys).
	Rings []string
}

func (k TrustedKey) String() string {
	return fmt.Sprintf("%q (key id %s, key %d in %s)", k.Subject, k.ID, k.Serial, strings.Join(k.Rings, ", "))
}

// in reports whether the key is held in ring.
func (k TrustedKey) in(ring string) bool {
	for _, r := range k.Rings {
		if r == ring {
			return true
		}
	}
	return false
}

// KernelKeys is a read of the kernel's trusted keyrings.
type KernelKeys struct {
	// Rings maps the trusted keyrings the kernel has to their serials.
	Rings map[string]int
	Keys  []TrustedKey
	// MachineTrusted is set when .machine is linked into
	// .secondary_trusted_keys: the kernel trusts the owner's keys as it
	// trusts its own (shim set MokListTrustedRT).
	MachineTrusted bool
}

// keyReader is the two keyctl calls ReadKernelKeys makes, a seam for tests.
type keyReader interface {
	// describe is KEYCTL_DESCRIBE: "type;uid;gid;perm;description".
	describe(id int) (string, error)
	// list is KEYCTL_READ of a keyring: the serials it links to.
	list(id int) ([]int, error)
}

type kernelKeyctl struct{}

func (kernelKeyctl) describe(id int) (string, error) {
	return unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
}

func (kernelKeyctl) list(id int) ([]int, error) {
	buf := make([]byte, 4*64)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			return nil, err
		}
		if n <= len(buf) {
			ids := make([]int, 0, n/4)
			for i := 0; i+4 <= n; i += 4 {
				ids = append(ids, int(int32(binary.NativeEndian.Uint32(buf[i:]))))
			}
			return ids, nil
		}
		buf = make([]byte, n) // the keyring grew or was larger: the kernel said how much
	}
}

// ReadKernelKeys reads which asymmetric keys the kernel's trusted keyrings
// hold: the keyrings are found in procKeys ("" = /proc/keys, which root can
// read), their contents with keyctl. It only reads.
func ReadKernelKeys(procKeys string) (KernelKeys, error) {
	return readKernelKeys(procKeys, kernelKeyctl{})
}

func readKernelKeys(procKeys string, kr keyReader) (KernelKeys, error) {
	if procKeys == "" {
		procKeys = "/proc/keys"
	}
	rings, err := ringsInProcKeys(procKeys, trustRings)
	if err != nil {
		return KernelKeys{}, err
	}
	kk := KernelKeys{Rings: rings}
	bySerial := map[int]*TrustedKey{}
	var order []int
	for _, name := range trustRings {
		id, ok := rings[name]
		if !ok {
			continue
		}
		// Depth-first through nested keyrings, each keyring once.
		seen := map[int]bool{}
		var walk func(ring int, depth int) error
		walk = func(ring int, depth int) error {
			if seen[ring] || depth > 4 {
				return nil
			}
			seen[ring] = true
			members, err := kr.list(ring)
			if err != nil {
				return fmt.Errorf("read keyring %s (key %d): %s: %w", name, ring, unix.ErrnoName(ringErrno(err)), err)
			}
			for _, m := range members {
				desc, err := kr.describe(m)
				if err != nil {
					continue // gone, or not ours to see: not a key we could use
				}
				typ, description := splitKeyDescription(desc)
				switch typ {
				case "keyring":
					if name == RingSecondary && description == RingMachine {
						kk.MachineTrusted = true
					}
					if err := walk(m, depth+1); err != nil {
						return err
					}
				case "asymmetric":
					k := bySerial[m]
					if k == nil {
						subject, kid := splitAsymmetricName(description)
						k = &TrustedKey{Serial: m, Subject: subject, ID: kid}
						bySerial[m] = k
						order = append(order, m)
					}
					if !k.in(name) {
						k.Rings = append(k.Rings, name)
					}
				}
			}
			return nil
		}
		if err := walk(id, 0); err != nil {
			return kk, err
		}
	}
	for _, s := range order {
		kk.Keys = append(kk.Keys, *bySerial[s])
	}
	return kk, nil
}

// ringsInProcKeys returns the serials of the keyrings called names that a
// /proc/keys listing shows. Lines look like
//
//	2c48b8b5 I------     2 perm 1f0b0000     0     0 keyring   .machine: 2
func ringsInProcKeys(path string, names []string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the kernel's keys: %w", err)
	}
	defer f.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	found := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 9 || fields[7] != "keyring" {
			continue
		}
		name := strings.TrimSuffix(fields[8], ":")
		if !want[name] {
			continue
		}
		id, err := strconv.ParseUint(fields[0], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("read the kernel's keys: %s: bad key serial %q", path, fields[0])
		}
		found[name] = int(id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the kernel's keys: %s: %w", path, err)
	}
	return found, nil
}

// splitKeyDescription splits KEYCTL_DESCRIBE's "type;uid;gid;perm;desc".
func splitKeyDescription(s string) (typ, description string) {
	parts := strings.SplitN(s, ";", 5)
	if len(parts) < 5 {
		return "", ""
	}
	return parts[0], parts[4]
}

// splitAsymmetricName splits an X.509 key's description, which the kernel
// makes as "<subject>: <hex of the SubjectKeyIdentifier, or of the serial>".
// A subject may itself hold ": ", so the id is what follows the last one.
func splitAsymmetricName(d string) (subject, id string) {
	i := strings.LastIndex(d, ": ")
	if i < 0 {
		return d, ""
	}
	return d[:i], d[i+2:]
}

// NormalizeKeyID turns a key id written as openssl and mokutil print it
// (24:40:E8:…), or as the kernel does (2440e8…), into the kernel's form.
// It must be whole bytes, at least 8 of them: the 4-byte key id of an IMA
// signature names a key among the few in _ima, not an authority to trust.
func NormalizeKeyID(s string) (string, error) {
	// Colons and spaces as openssl and mokutil print it; no strings.Replacer
	// (its generic machinery would cost the static agent ~10 KB).
	id := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), ":", ""), " ", ""))
	if id == "" {
		return "", errors.New("empty key id")
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", fmt.Errorf("key id %q is not hexadecimal", s)
		}
	}
	if len(id)%2 != 0 || len(id) < 16 {
		return "", fmt.Errorf("key id %q: want the whole SubjectKeyIdentifier (usually 20 bytes, 40 hex digits), at least 8 bytes", s)
	}
	return id, nil
}

// CANotFoundError says that no trusted key has the owner's CA's key id,
// and what the kernel trusts instead.
type CANotFoundError struct {
	ID   string
	Keys KernelKeys
}

func (e *CANotFoundError) Error() string {
	for _, k := range e.Keys.Keys {
		if k.ID == e.ID && k.in(RingPlatform) {
			return fmt.Sprintf("the owner's CA (key id %s) is in %s only, which the kernel trusts for kexec, not in %s: shim did not set MokListTrustedRT (re-enable it with mokutil --trust-mok and confirm in MokManager at the next boot)", e.ID, RingPlatform, RingMachine)
		}
	}
	var have []string
	for _, name := range []string{RingMachine, RingBuiltin} {
		if _, ok := e.Keys.Rings[name]; !ok {
			have = append(have, name+": (no such keyring)")
			continue
		}
		var subjects []string
		for _, k := range e.Keys.Keys {
			if k.in(name) {
				subjects = append(subjects, fmt.Sprintf("%q %s", k.Subject, k.ID))
			}
		}
		sort.Strings(subjects)
		if len(subjects) == 0 {
			subjects = []string{"empty"}
		}
		have = append(have, name+": "+strings.Join(subjects, ", "))
	}
	return fmt.Sprintf("the owner's CA (key id %s) is not among the keys the kernel trusts (%s); enroll it as a Machine Owner Key: mokutil --import CA.der, then confirm in MokManager at the next boot", e.ID, strings.Join(have, "; "))
}

// FindCA returns the key whose id is id (NormalizeKeyID's form) among the
// keys the kernel trusts: .machine, .secondary_trusted_keys,
// .builtin_trusted_keys. A key in .platform alone is not trusted for this.
// Two different keys with the same id are an error: which one signed a
// certificate would then be the kernel's guess.
func (kk KernelKeys) FindCA(id string) (TrustedKey, error) {
	var found []TrustedKey
	for _, k := range kk.Keys {
		if k.ID != id {
			continue
		}
		if k.in(RingMachine) || k.in(RingSecondary) || k.in(RingBuiltin) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return TrustedKey{}, &CANotFoundError{ID: id, Keys: kk}
	case 1:
		return found[0], nil
	}
	var all []string
	for _, k := range found {
		all = append(all, k.String())
	}
	return TrustedKey{}, fmt.Errorf("key id %s names %d different trusted keys (%s): the CA is ambiguous", id, len(found), strings.Join(all, "; "))
}
