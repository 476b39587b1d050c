package relabel

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ErrChanged says a file changed while it was hashed or labeled.
var ErrChanged = errors.New("file changed while it was read")

// fileState is what must not change between the start of hashing and the label write.
type fileState struct {
	dev, ino     uint64
	size         int64
	mtime, ctime unix.Timespec
}

func statFile(f *os.File) (fileState, *unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fileState{}, nil, fmt.Errorf("stat: %w", err)
	}
	return fileState{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}, &st, nil
}

// sameContent compares everything but ctime, which our own setxattr moves.
func (a fileState) sameContent(b fileState) bool {
	return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime == b.mtime
}

// HashFile returns the digest of a file's whole content (what IMA measures and appraises).
func HashFile(path string, algo HashAlgo) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return hashReader(f, algo, make([]byte, 256<<10))
}

func hashReader(r io.Reader, algo HashAlgo, buf []byte) ([]byte, error) {
	ch, err := algo.CryptoHash()
	if err != nil {
		return nil, err
	}
	h := ch.New()
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{r}, buf); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
