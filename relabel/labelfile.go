package relabel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Action is what happened to one file.
type Action string

// Actions of a labeling run.
const (
	ActionLabeled  Action = "labeled"  // security.ima (and/or security.evm) written
	ActionVerified Action = "verified" // labels already right: nothing written
	ActionWouldSet Action = "would-label"
	ActionLinked   Action = "hard-link" // another name of an inode handled under its first name
	ActionFailed   Action = "failed"
)

// fileResult is one worker's answer for one file.
type fileResult struct {
	path    string
	action  Action
	bytes   int64
	signed  bool // the IMA label is (or would be) a signature
	evm     bool // security.evm was written
	err     error
	verdict *FileVerdict // Verify only
}

// labeler labels files; one per worker (it owns a read buffer).
type labeler struct {
	o     *Options
	buf   []byte
	own   *PublicKeys // the signer's public key, to recognise our own labels
	links *sync.Map   // inodes with several names already taken by a worker
}

// inode identifies a file with several hard links, labeled once.
type inode struct{ dev, ino uint64 }

func newLabeler(o *Options, links *sync.Map) *labeler {
	lb := &labeler{o: o, buf: make([]byte, 256<<10), links: links}
	if o.Signer != nil {
		lb.own = NewPublicKeys()
		lb.own.AddKey(o.Signer.KeyID, o.Signer.Public())
	}
	return lb
}

func openNoFollow(path string) (*os.File, bool, error) {
	const flags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NOCTTY | unix.O_NONBLOCK | unix.O_CLOEXEC
	// O_NOATIME keeps atime as it was; it needs ownership or CAP_FOWNER.
	fd, err := unix.Open(path, flags|unix.O_NOATIME, 0)
	noatime := err == nil
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Open(path, flags, 0)
	}
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), noatime, nil
}

// label hashes one file and writes the labels it should carry.
func (lb *labeler) label(it walkItem) fileResult {
	r := fileResult{path: it.path}
	f, noatime, err := openNoFollow(it.path)
	if err != nil {
		r.action, r.err = ActionFailed, err
		return r
	}
	defer f.Close()
	before, st, err := statFile(f)
	if err != nil {
		r.action, r.err = ActionFailed, err
		return r
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		r.action, r.err = ActionFailed, fmt.Errorf("%s: no longer a regular file", it.path)
		return r
	}
	if st.Nlink > 1 {
		// Labels belong to the inode: label it once, or workers on two of its names
		// would see each other's writes as changes (and ECDSA labels never settle).
		if _, taken := lb.links.LoadOrStore(inode{st.Dev, st.Ino}, true); taken {
			r.action = ActionLinked
			return r
		}
	}
	if !noatime {
		// Put atime back after reading (reading would move it on relatime mounts).
		defer unix.UtimesNanoAt(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", f.Fd()),
			[]unix.Timespec{st.Atim, {Nsec: unix.UTIME_OMIT}}, 0)
	}
	mutable := lb.o.Mutable.Match(it.rel) && st.Mode&0o111 == 0
	sign := lb.o.Signer != nil && !mutable
	r.signed = sign

	var digest []byte
	for attempt := 0; ; attempt++ {
		if attempt > lb.o.Retries {
			r.action, r.err = ActionFailed, fmt.Errorf("%s: %w %d times; not labeled", it.path, ErrChanged, attempt)
			return r
		}
		if attempt > 0 {
			if before, _, err = statFile(f); err != nil {
				r.action, r.err = ActionFailed, err
				return r
			}
		}
		lb.waitSettled(before)
		if _, err := f.Seek(0, 0); err != nil {
			r.action, r.err = ActionFailed, fmt.Errorf("seek %s: %w", it.path, err)
			return r
		}
		digest, err = hashReader(f, lb.o.Algo, lb.buf)
		if err != nil {
			r.action, r.err = ActionFailed, fmt.Errorf("read %s: %w", it.path, err)
			return r
		}
		if lb.o.afterHash != nil {
			lb.o.afterHash(it.path)
		}
		after, _, err := statFile(f)
		if err != nil {
			r.action, r.err = ActionFailed, err
			return r
		}
		if after == before {
			break
		}
	}
	r.bytes = before.size

	want := HashLabel(lb.o.Algo, digest)
	old, hadOld, err := fgetxattr(f, XattrIMA)
	if err != nil {
		r.action, r.err = ActionFailed, err
		return r
	}
	imaOK := hadOld && lb.imaLabelOK(old, want, sign, digest)
	var evmOK bool
	if lb.o.EVMPortable && sign {
		evmOK = imaOK && lb.evmLabelOK(f)
	}
	if imaOK && (evmOK || !lb.o.EVMPortable || !sign) && !lb.o.Force {
		r.action = ActionVerified
		return r
	}
	if lb.o.DryRun {
		r.action = ActionWouldSet
		return r
	}
	if !imaOK || lb.o.Force {
		if sign {
			if want, err = lb.o.Signer.SignLabel(TypeSignature, lb.o.Algo, digest); err != nil {
				r.action, r.err = ActionFailed, fmt.Errorf("%s: %w", it.path, err)
				return r
			}
		}
		if err := lb.setChecked(f, before, XattrIMA, want, old, hadOld); err != nil {
			r.action, r.err = ActionFailed, err
			return r
		}
	}
	if lb.o.EVMPortable && sign && (!evmOK || lb.o.Force) {
		if err := lb.writeEVM(f, before); err != nil {
			r.action, r.err = ActionFailed, err
			return r
		}
		r.evm = true
	} else if !imaOK || lb.o.Force {
		if err := dropStaleEVMSignature(f); err != nil {
			r.action, r.err = ActionFailed, err
			return r
		}
	}
	r.action = ActionLabeled
	return r
}

// waitSettled waits while the file's last change is too recent to tell apart from a
// write that could still land in the same timestamp tick.
func (lb *labeler) waitSettled(s fileState) {
	changed := time.Unix(s.ctime.Unix())
	if d := lb.o.settle - time.Since(changed); d > 0 {
		time.Sleep(d)
	}
}

// imaLabelOK reports whether the present label is the one we would write (for
// signatures: ours, same algorithm, and verifying over the current digest; ECDSA
// signatures differ each time, so bytes cannot be compared).
func (lb *labeler) imaLabelOK(old, wantHash []byte, sign bool, digest []byte) bool {
	if !sign {
		return bytes.Equal(old, wantHash)
	}
	l, err := ParseLabel(old)
	if err != nil || l.Type != TypeSignature || l.Algo != lb.o.Algo || l.KeyID != lb.o.Signer.KeyID {
		return false
	}
	return lb.own.VerifyDigest(l, digest) == nil
}

func (lb *labeler) evmLabelOK(f *os.File) bool {
	old, ok, err := fgetxattr(f, XattrEVM)
	if err != nil || !ok {
		return false
	}
	l, err := ParseLabel(old)
	if err != nil || l.Type != TypePortableSig || l.Algo != lb.o.Algo || l.KeyID != lb.o.Signer.KeyID {
		return false
	}
	in, err := ReadEVMInput(f, lb.o.EVMExtraXattrs)
	if err != nil {
		return false
	}
	d, err := in.Digest(l.Algo)
	return err == nil && lb.own.VerifyDigest(l, d) == nil
}

func (lb *labeler) writeEVM(f *os.File, before fileState) error {
	in, err := ReadEVMInput(f, lb.o.EVMExtraXattrs)
	if err != nil {
		return err
	}
	d, err := in.Digest(lb.o.Algo)
	if err != nil {
		return err
	}
	v, err := lb.o.Signer.SignLabel(TypePortableSig, lb.o.Algo, d)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	old, hadOld, err := fgetxattr(f, XattrEVM)
	if err != nil {
		return err
	}
	return lb.setChecked(f, before, XattrEVM, v, old, hadOld)
}

// setChecked writes one xattr on the open file (the inode that was hashed) and checks
// afterwards that the content did not change in between; if it did, the previous
// value is put back so no stale label stays.
func (lb *labeler) setChecked(f *os.File, before fileState, name string, v, old []byte, hadOld bool) error {
	fd := int(f.Fd())
	if err := unix.Fsetxattr(fd, name, v, 0); err != nil {
		return fmt.Errorf("set %s on %s: %w", name, f.Name(), err)
	}
	after, _, err := statFile(f)
	if err == nil && after.sameContent(before) {
		return nil
	}
	if hadOld {
		unix.Fsetxattr(fd, name, old, 0)
	} else {
		unix.Fremovexattr(fd, name)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%s: %w (while %s was set); label withdrawn", f.Name(), ErrChanged, name)
}

// dropStaleEVMSignature removes an EVM signature (portable or not) after security.ima
// changed under it: it covers the old value, so the kernel would refuse the file, and
// a portable one would also keep the kernel from ever updating the file's labels.
// HMACs are the kernel's to update.
func dropStaleEVMSignature(f *os.File) error {
	v, ok, err := fgetxattr(f, XattrEVM)
	if err != nil || !ok || len(v) == 0 {
		return err
	}
	if t := LabelType(v[0]); t != TypeSignature && t != TypePortableSig {
		return nil
	}
	if err := unix.Fremovexattr(int(f.Fd()), XattrEVM); err != nil && !errors.Is(err, unix.ENODATA) {
		return fmt.Errorf("remove stale %s signature from %s: %w", XattrEVM, f.Name(), err)
	}
	return nil
}
