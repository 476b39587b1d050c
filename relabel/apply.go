package relabel

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ErrDigestMismatch says a file's content is not the content a label was made for.
var ErrDigestMismatch = errors.New("content does not match the signed digest")

// ApplyLabel gives the regular file at path the security.ima value label, made
// elsewhere (a package's signature manifest) for content whose algo digest is
// want. It hashes the open file and writes on that same inode only when the
// digest matches and the file did not change meanwhile; otherwise it writes
// nothing and returns ErrDigestMismatch or ErrChanged. A label already in place
// gives ActionVerified. No key is needed: the kernel verifies the signature.
// buf is a read buffer (nil: one is allocated).
func ApplyLabel(path string, algo HashAlgo, want, label, buf []byte) (Action, error) {
	f, _, err := openNoFollow(path)
	if err != nil {
		return ActionFailed, err
	}
	defer f.Close()
	return ApplyLabelFile(f, algo, want, label, buf)
}

// ApplyLabelFile is ApplyLabel on a file the caller opened (read-only, not
// following a final symlink), for callers that resolve paths themselves.
func ApplyLabelFile(f *os.File, algo HashAlgo, want, label, buf []byte) (Action, error) {
	if buf == nil {
		buf = make([]byte, 256<<10)
	}
	path := f.Name()
	before, st, err := statFile(f)
	if err != nil {
		return ActionFailed, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return ActionFailed, fmt.Errorf("%s: not a regular file", path)
	}
	digest, err := hashReader(f, algo, buf)
	if err != nil {
		return ActionFailed, fmt.Errorf("read %s: %w", path, err)
	}
	if after, _, err := statFile(f); err != nil {
		return ActionFailed, err
	} else if after != before {
		return ActionFailed, fmt.Errorf("%s: %w; not labeled", path, ErrChanged)
	}
	if !bytes.Equal(digest, want) {
		return ActionFailed, fmt.Errorf("%s: %w (%s %x, the manifest says %x); not labeled", path, ErrDigestMismatch, algo, digest, want)
	}
	old, hadOld, err := fgetxattr(f, XattrIMA)
	if err != nil {
		return ActionFailed, err
	}
	if hadOld && bytes.Equal(old, label) {
		return ActionVerified, nil
	}
	if err := setChecked(f, before, XattrIMA, label, old, hadOld); err != nil {
		return ActionFailed, err
	}
	if err := dropStaleEVMSignature(f); err != nil {
		return ActionFailed, err
	}
	return ActionLabeled, nil
}
