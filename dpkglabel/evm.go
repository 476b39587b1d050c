package dpkglabel

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/relabel"
)

// LabelGroup is the system group of the files the labeler creates while an
// EVM HMAC key is loaded (see Recreator).
const LabelGroup = "imaboot-label"

// evmFile is the kernel's EVM state; bit 0 says the HMAC key is loaded.
const evmFile = "/sys/kernel/security/evm"

// EVMHMACLoaded reports whether the running kernel has its EVM HMAC key.
func EVMHMACLoaded() bool {
	b, err := os.ReadFile(evmFile)
	if err != nil {
		return false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 0, 64)
	return err == nil && n&1 != 0
}

// GroupID looks name up in root's /etc/group; -1 when it is not there.
func GroupID(root, name string) int {
	f, err := os.Open(path.Join(root, "etc/group"))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 && fields[0] == name {
			if id, err := strconv.Atoi(fields[2]); err == nil {
				return id
			}
		}
	}
	return -1
}

// errEVMRefused explains an EPERM on a new file while the HMAC key is loaded.
var errEVMRefused = errors.New("the EVM HMAC key is loaded and the file has no EVM-protected xattr yet, so the kernel refuses labels written on it; " +
	"the dpkg-deb shim and --pending label such files through a copy made by mknod, which Linux before 6.9 lets be labeled only when " +
	"group " + LabelGroup + " exists (imaboot-dpkg-hooks enable) and the IMA policy holds \"appraise func=FILE_CHECK fgroup=GID\"")

// NewRecreator returns the Recreator for files inside root when the running
// kernel has its EVM HMAC key, nil otherwise (labels are then written in
// place). Without the group imaboot-label in root the copies get group 0:
// enough from Linux 6.9 on, refused (EPERM, reported) before.
func NewRecreator(root string) *Recreator {
	if !EVMHMACLoaded() {
		return nil
	}
	if root == "" {
		root = "/"
	}
	return &Recreator{GID: max(GroupID(root, LabelGroup), 0)}
}

// needsCopy reports whether f carries neither security.ima nor
// security.evm: with the HMAC key loaded only a copy can be labeled.
func needsCopy(f *os.File) bool {
	for _, name := range []string{relabel.XattrIMA, relabel.XattrEVM} {
		if _, err := unix.Fgetxattr(int(f.Fd()), name, nil); err == nil || !errors.Is(err, unix.ENODATA) {
			return false
		}
	}
	return true
}

// Recreator labels files dpkg has just created on a machine whose EVM HMAC
// key is loaded. There the kernel refuses every security.* write (EPERM;
// audit "op=update_metadata cause=no_xattrs") on a file that has no
// protected xattr yet, unless the file is marked new, and only until its
// last writer closes it: on 6.1, IMA's mark, given to a file created under
// an "appraise func=FILE_CHECK" rule; from 6.9 on (6.12), EVM's own mark,
// given to every regular file made by mknod(2). dpkg has closed its files,
// so each one is replaced by a copy the labeler makes by mknod with group
// imaboot-label, which the rule "appraise func=FILE_CHECK fgroup=GID"
// matches: while the copy is still open it gets the signature (the kernel
// adds the HMAC), then dpkg's owner, group, mode and times, and is renamed
// over the original. Hard links between such files become separate copies.
type Recreator struct {
	GID int // LabelGroup's id
}

// recreate replaces where (inside r, open as f) by a labeled copy of it,
// if its content hashes to e's digest.
func (rc *Recreator) recreate(r *Root, where string, f *os.File, e imasigs.Entry) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return &os.PathError{Op: "stat", Path: f.Name(), Err: err}
	}
	dir, err := r.openDir(path.Dir(where))
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := ".imaboot-" + hex.EncodeToString(rnd[:])
	name := r.Name(where)
	out, err := rc.create(dir, tmp)
	if err != nil {
		return fmt.Errorf("%s: create the labeled copy: %w", name, err)
	}
	ok := false
	defer func() {
		out.Close()
		if !ok {
			unix.Unlinkat(dir, tmp, 0)
		}
	}()
	if err := copyChecked(out, f, e); err != nil {
		return fmt.Errorf("%s: %w; not labeled", name, err)
	}
	ofd := int(out.Fd())
	if err := unix.Fsetxattr(ofd, relabel.XattrIMA, e.Label, 0); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("set %s on the copy of %s: %w: %v", relabel.XattrIMA, name, err, errEVMRefused)
		}
		return fmt.Errorf("set %s on the copy of %s: %w", relabel.XattrIMA, name, err)
	}
	if err := unix.Fchown(ofd, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("chown the copy of %s: %w", name, err)
	}
	if err := unix.Fchmod(ofd, st.Mode&07777); err != nil {
		return fmt.Errorf("chmod the copy of %s: %w", name, err)
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(dir, tmp, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set the times of the copy of %s: %w", name, err)
	}
	var now unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &now); err != nil || now.Mtim != st.Mtim || now.Size != st.Size || now.Ctim != st.Ctim {
		return fmt.Errorf("%s: %w; not labeled", name, relabel.ErrChanged)
	}
	if err := unix.Renameat(dir, tmp, dir, path.Base(where)); err != nil {
		return fmt.Errorf("rename the labeled copy over %s: %w", name, err)
	}
	ok = true
	return nil
}

// create makes dir/name with mknod(2), with the label group as its group
// (the thread's file-system gid is switched for the one call: setfsgid is
// per thread and leaves capabilities alone), and opens it for writing.
// mknod, not open(O_CREAT): Linux 6.9 and later mark as new for EVM
// (EVM_NEW_FILE) only files made by mknod, whatever the policy; before 6.9
// IMA marks a file made by mknod new when a FILE_CHECK appraise rule
// matches it (the fgroup rule).
func (rc *Recreator) create(dir int, name string) (*os.File, error) {
	runtime.LockOSThread()
	prev, _ := unix.SetfsgidRetGid(rc.GID)
	err := unix.Mknodat(dir, name, unix.S_IFREG|0o600, 0)
	unix.Setfsgid(prev)
	runtime.UnlockOSThread()
	if err != nil {
		return nil, err
	}
	fd, err := unix.Openat(dir, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Unlinkat(dir, name, 0)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || int(st.Gid) != rc.GID || st.Size != 0 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		unix.Unlinkat(dir, name, 0)
		return nil, fmt.Errorf("the copy is not the empty file of group %d just made (a setgid directory?)", rc.GID)
	}
	return f, nil
}

// copyBufs are copyChecked's buffers (a package holds thousands of files).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyChecked copies src into dst from the start, hashing what it copies,
// and fails unless the digest is e's.
func copyChecked(dst, src *os.File, e imasigs.Entry) error {
	ch, err := e.Algo.CryptoHash()
	if err != nil {
		return err
	}
	h := ch.New()
	in := io.NewSectionReader(src, 0, 1<<62)
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	if _, err := io.CopyBuffer(io.MultiWriter(dst, h), in, *buf); err != nil {
		return err
	}
	if got := h.Sum(nil); !bytes.Equal(got, e.Digest) {
		return fmt.Errorf("%w (%s:%x, signed %x)", relabel.ErrMismatch, e.Algo, got, e.Digest)
	}
	return nil
}
