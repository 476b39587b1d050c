package relabel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrMismatch is wrapped when a file's content does not hash to the digest a
// signature was made over: the label is not written.
var ErrMismatch = errors.New("content does not match the signed digest")

// applyBufs are ApplySignedFile's read buffers: the dpkg-deb shim labels
// thousands of small files in a row, and a fresh buffer for each cost more
// than hashing them.
var applyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// ApplySigned writes a label made elsewhere (a signature over digest in
// algo) onto path, but only once the file's current content hashes to
// digest. Hashing and the write happen on the same open descriptor, with
// the same before/after checks as a labeling run; the file is opened
// without following a final symlink. It reports whether it wrote (false
// when the label was already there).
func ApplySigned(path string, algo HashAlgo, digest, label []byte) (bool, error) {
	f, _, err := openNoFollow(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return ApplySignedFile(f, algo, digest, label)
}

// Unlike a labeling run it does not wait for the ctime tick to pass: a write
// that lands unseen in the same tick leaves a signature over the old digest,
// which the kernel refuses (fail closed), never a label it would accept.

// ApplySignedFile is ApplySigned on a file opened for reading by the caller
// (for instance inside a root with openat2); f.Name() names it in errors.
func ApplySignedFile(f *os.File, algo HashAlgo, digest, label []byte) (bool, error) {
	wrote, err := applySigned(f, algo, digest, label)
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return wrote, nil
}

func applySigned(f *os.File, algo HashAlgo, digest, label []byte) (bool, error) {
	before, st, err := statFile(f)
	if err != nil {
		return false, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, errors.New("not a regular file")
	}
	buf := applyBufs.Get().(*[]byte)
	got, err := hashReader(f, algo, *buf)
	applyBufs.Put(buf)
	if err != nil {
		return false, fmt.Errorf("read: %w", err)
	}
	after, _, err := statFile(f)
	if err != nil {
		return false, err
	}
	if after != before {
		return false, fmt.Errorf("%w; not labeled", ErrChanged)
	}
	if !bytes.Equal(got, digest) {
		return false, fmt.Errorf("%w (%s:%x, signed %x); not labeled", ErrMismatch, algo, got, digest)
	}
	old, hadOld, err := fgetxattr(f, XattrIMA)
	if err != nil {
		return false, err
	}
	if hadOld && bytes.Equal(old, label) {
		return false, nil
	}
	lb := &labeler{o: &Options{}}
	if err := lb.setChecked(f, before, XattrIMA, label, old, hadOld); err != nil {
		return false, err
	}
	return true, dropStaleEVMSignature(f)
}
