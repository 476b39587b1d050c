package initagent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Probes: files the agent makes and maps for execution itself before the
// switch, to learn what the kernel does with them. Each lives alone in a
// private tmpfs mounted for it, is owned by probeOwner, and holds one line
// of text. The agent maps it with PROT_EXEC (and unmaps it at once: nothing
// ever runs), which makes IMA appraise it (MMAP_CHECK): EACCES when IMA
// refuses it, a mapping when it lets it through. This happens in the
// agent's own task: where the kernel looks _ima or _evm up the first time it
// verifies a signature, that lookup searches the agent's keyrings.

// probeOwner owns the probe files: a uid from the range systemd documents
// as never allocated (2147483648-4294967294, unsafe for programs that take
// uids as signed), so the rules below match no other file.
const probeOwner = 3221225472 // 0xc0000000

// probeDir is where the private tmpfs is mounted, then unmounted.
const probeDir = "/run/imaboot/probe"

// The agent's own rules, written before the policy's (first match wins for
// each action): canaryRule makes the kernel appraise the canary, whatever
// the policy says about tmpfs; markerRule makes it measure the break-glass
// marker. Both name mappings for execution, tmpfs and probeOwner, so they
// add appraisal or measurement to the probe files alone and take nothing
// away.
var (
	canaryRule = "appraise func=MMAP_CHECK fsmagic=0x1021994 fowner=" + strconv.Itoa(probeOwner) + " appraise_type=imasig"
	markerRule = "measure func=MMAP_CHECK fsmagic=0x1021994 fowner=" + strconv.Itoa(probeOwner)
)

// probeFile is one probe: its name in probeDir, its one line of content,
// and the extended attributes it carries.
type probeFile struct {
	name    string
	content string
	xattrs  []probeXattr
}

type probeXattr struct {
	name  string
	value []byte
}

// probeResult is what mmap answered: EACCES (refused), 0 (mapped: let
// through), or another errno.
type probeResult struct {
	Errno unix.Errno
	Path  string
}

func (r probeResult) refused() bool { return r.Errno == unix.EACCES }
func (r probeResult) passed() bool  { return r.Errno == 0 }

// verdict is the kernel's answer in words, for reports.
func (r probeResult) verdict() string {
	switch {
	case r.passed():
		return "mapped for execution"
	case r.refused():
		return "EACCES"
	}
	return unix.ErrnoName(r.Errno) + " (" + r.Errno.Error() + ")"
}

// probeInspect, when set (tests), is shown each probe file just before it
// is mapped.
var probeInspect func(path string)

// runProbe makes f in a fresh tmpfs at dir and maps it for execution once.
// The error is for what kept the probe from being tried (a mount, an xattr
// the file system refuses); the kernel's verdict is in the result.
func runProbe(dir string, f probeFile) (probeResult, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return probeResult{}, err
	}
	defer os.Remove(dir)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0700,size=64k"); err != nil {
		return probeResult{}, fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	path := filepath.Join(dir, f.name)
	res := probeResult{Path: path}
	if err := os.WriteFile(path, []byte(f.content), 0o700); err != nil {
		return res, err
	}
	// Mode and owner are set explicitly: the umask is not ours to trust.
	if err := os.Chmod(path, 0o755); err != nil {
		return res, err
	}
	if err := os.Chown(path, probeOwner, probeOwner); err != nil {
		return res, err
	}
	for _, x := range f.xattrs {
		if err := unix.Setxattr(path, x.name, x.value, 0); err != nil {
			return res, fmt.Errorf("set %s on %s: %w", x.name, path, err)
		}
	}
	if probeInspect != nil {
		probeInspect(path)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return res, fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	mem, err := unix.Mmap(fd, 0, len(f.content), unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE)
	if err == nil {
		unix.Munmap(mem)
		return res, nil
	}
	if !errors.As(err, &res.Errno) {
		return res, fmt.Errorf("map %s for execution: %w", path, err)
	}
	return res, nil
}

// Signature formats (security/integrity/integrity.h): the xattr type, then
// struct signature_v2_hdr: version 2, hash algorithm, key id (big endian),
// signature size (big endian), signature.
const (
	xattrIMASignature   = 0x03 // EVM_IMA_XATTR_DIGSIG
	xattrEVMPortableSig = 0x05 // EVM_XATTR_PORTABLE_DIGSIG
	hashAlgoSHA256      = 4    // HASH_ALGO_SHA256
)

// wrongSignature is a well-formed v2 signature that verifies nothing: the
// kernel parses it, looks the key up in its keyring (the first signature it
// verifies makes it find the keyring and keep it), and refuses it. keyID
// should name a loaded key, so the kernel's refusal is the signature's (a
// missing key also refuses, with a log line).
func wrongSignature(xattrType byte, keyID uint32) []byte {
	sig := make([]byte, 9+256) // as long as an RSA-2048 signature, all zero
	sig[0], sig[1], sig[2] = xattrType, 2, hashAlgoSHA256
	binary.BigEndian.PutUint32(sig[3:], keyID)
	binary.BigEndian.PutUint16(sig[7:], 256)
	return sig
}
