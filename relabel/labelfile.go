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
	// ActionKept: left as it was because the new label would have replaced a
	// signature with a hash (Options.ReplaceSignatures allows it).
	ActionKept   Action = "kept-signature"
	ActionFailed Action = "failed"
)

// fileResult is one worker's answer for one file.
type fileResult struct {
	path    string
	action  Action
	bytes   int64
	signed  bool // the IMA label is (or would be) a signature
	mutable bool // hashed, not signed, as a mutable file of a signing run
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

// openNoFollow opens path for reading without following a final symlink.
func openNoFollow(path string) (*os.File, bool, error) {
	fd, noatime, err := openReadable(func(flags int) (int, error) { return unix.Open(path, flags, 0) })
	if err != nil {
		return nil, false, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), noatime, nil
}

// label hashes one file and writes the labels it should carry. Errors name
// the step, not the path: the Failure carries it.
func (lb *labeler) label(it walkItem) fileResult {
	r := fileResult{path: it.path}
	f, noatime, err := it.open()
	if err != nil {
		r.action, r.err = ActionFailed, pathFree(err)
		return r
	}
	defer f.Close()
	before, st, err := statFile(f)
	if err != nil {
		r.action, r.err = ActionFailed, err
		return r
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		r.action, r.err = ActionFailed, errors.New("no longer a regular file")
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
	r.mutable = mutable && lb.o.Signer != nil

	var digest []byte
	for attempt := 0; ; attempt++ {
		if attempt > lb.o.Retries {
			r.action, r.err = ActionFailed, fmt.Errorf("%w %d times; not labeled", ErrChanged, attempt)
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
			r.action, r.err = ActionFailed, fmt.Errorf("seek: %w", err)
			return r
		}
		digest, err = hashReader(f, lb.o.Algo, lb.buf)
		if err != nil {
			r.action, r.err = ActionFailed, fmt.Errorf("read: %w", err)
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
	oldEVM, _, err := fgetxattr(f, XattrEVM)
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
	writeIMA := !imaOK || lb.o.Force
	if writeIMA && sign {
		if want, err = lb.o.Signer.SignLabel(TypeSignature, lb.o.Algo, digest); err != nil {
			r.action, r.err = ActionFailed, err
			return r
		}
	}
	if writeIMA && !(hadOld && bytes.Equal(old, want)) && !lb.o.ReplaceSignatures &&
		lb.destroysSignature(old, oldEVM, sign) {
		r.action = ActionKept
		return r
	}
	if lb.o.DryRun {
		r.action = ActionWouldSet
		return r
	}
	if writeIMA {
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
	} else if writeIMA && !(hadOld && bytes.Equal(old, want)) {
		if err := dropStaleEVMSignature(f); err != nil {
			r.action, r.err = ActionFailed, err
			return r
		}
	}
	r.action = ActionLabeled
	return r
}

// destroysSignature reports whether changing security.ima (from old, to a
// hash unless sign) would lose a signature: an IMA signature replaced by a
// hash, or an EVM signature over the old value that nothing replaces.
func (lb *labeler) destroysSignature(old, oldEVM []byte, sign bool) bool {
	if !sign && len(old) > 0 && isSignature(LabelType(old[0])) {
		return true
	}
	evmReplaced := lb.o.EVMPortable && sign
	if t := firstType(oldEVM); !evmReplaced && (t == TypeSignature || t == TypePortableSig) {
		return true
	}
	return false
}

func isSignature(t LabelType) bool { return t == TypeSignature || t == TypeVeritySig }

func firstType(v []byte) LabelType {
	if len(v) == 0 {
		return 0
	}
	return LabelType(v[0])
}

// pathFree drops the path from an error whose Failure already names it.
func pathFree(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
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
		return err
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
		return fmt.Errorf("set %s: %w", name, err)
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
	return fmt.Errorf("%w (while %s was set); label withdrawn", ErrChanged, name)
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
		return fmt.Errorf("remove stale %s signature: %w", XattrEVM, err)
	}
	return nil
}
