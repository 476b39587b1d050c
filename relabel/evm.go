package relabel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// EVMXattrs are the extended attributes EVM protects, in the order the kernel hashes
// them (evm_config_default_xattrnames). Portable signatures cover every one the file
// has, whether or not the running kernel enables the LSM that owns it.
var EVMXattrs = []string{
	"security.selinux",
	"security.SMACK64",
	"security.SMACK64EXEC",
	"security.SMACK64TRANSMUTE",
	"security.SMACK64MMAP",
	"security.apparmor",
	XattrIMA,
	"security.capability",
}

// EVMInput is what a portable EVM signature covers.
type EVMInput struct {
	Xattrs [][]byte // values of the protected xattrs the file has, in EVMXattrs order
	UID    uint32
	GID    uint32
	Mode   uint32 // st_mode, including the file type bits
}

// errNoIMA: the kernel refuses a portable signature of a file without security.ima.
var errNoIMA = errors.New("portable EVM signature needs security.ima on the file")

// Digest hashes the input the way the kernel does for a portable signature
// (evm_calc_hmac_or_hash then hmac_add_misc, 64-bit layout of struct h_misc).
func (in *EVMInput) Digest(algo HashAlgo) ([]byte, error) {
	ch, err := algo.CryptoHash()
	if err != nil {
		return nil, err
	}
	h := ch.New()
	for _, v := range in.Xattrs {
		h.Write(v)
	}
	var misc [24]byte // ino (8) and generation (4) stay zero for portable signatures
	binary.LittleEndian.PutUint32(misc[12:], in.UID)
	binary.LittleEndian.PutUint32(misc[16:], in.GID)
	binary.LittleEndian.PutUint16(misc[20:], uint16(in.Mode))
	h.Write(misc[:])
	return h.Sum(nil), nil
}

// ReadEVMInput reads the protected xattrs (EVMXattrs, then extra names) and the owner and
// mode of an open file.
func ReadEVMInput(f *os.File, extra []string) (*EVMInput, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	in := &EVMInput{UID: st.Uid, GID: st.Gid, Mode: st.Mode}
	ima := false
	for _, names := range [][]string{EVMXattrs, extra} {
		for _, n := range names {
			v, ok, err := fgetxattr(f, n)
			if err != nil {
				return nil, err
			}
			if ok {
				in.Xattrs = append(in.Xattrs, v)
				ima = ima || n == XattrIMA
			}
		}
	}
	if !ima {
		return nil, errNoIMA
	}
	return in, nil
}

// fgetxattr returns an xattr's value, ok=false when the file does not have it.
func fgetxattr(f *os.File, name string) ([]byte, bool, error) {
	fd := int(f.Fd())
	buf := make([]byte, 512)
	for {
		n, err := unix.Fgetxattr(fd, name, buf)
		switch {
		case err == nil:
			return buf[:n], true, nil
		case errors.Is(err, unix.ENODATA) || errors.Is(err, unix.EOPNOTSUPP):
			return nil, false, nil
		case errors.Is(err, unix.ERANGE):
			n, err = unix.Fgetxattr(fd, name, nil)
			if err != nil {
				return nil, false, fmt.Errorf("get %s: %w", name, err)
			}
			buf = make([]byte, n+64)
		default:
			return nil, false, fmt.Errorf("get %s: %w", name, err)
		}
	}
}
