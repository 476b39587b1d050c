package dpkglabel

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// errReaderGone: the reading end of the pipe was closed before it read
// everything (dpkg stopped the extraction on an error of its own).
var errReaderGone = errors.New("the reader closed the pipe")

// endPadding is written after the data archive: two zero blocks, tar's end
// marker. dpkg stops extracting at the first zero block and then reads its
// pipe to end-of-file, so once these bytes are read dpkg has finished with
// the last file, even for an archive that has no end marker of its own.
var endPadding = make([]byte, 1024)

// writeAll writes b to the pipe fd.
func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EPIPE) {
			return errReaderGone
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// waitConsumed returns once the reader of the pipe fd (our end is the
// writing one) has read every byte written to it, or errReaderGone when it
// closed its end first. A pipe has no event for "empty": it asks FIONREAD,
// and sleeps in between with poll(2), which reports POLLERR on the writing
// end as soon as no reader is left, so a dpkg that gave up is never waited
// for.
func waitConsumed(fd int) error {
	delay := 50 * time.Microsecond
	for {
		n, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD
		if err != nil {
			return fmt.Errorf("FIONREAD on the output pipe: %w", err)
		}
		if n == 0 {
			return nil
		}
		fds := []unix.PollFd{{Fd: int32(fd)}}
		ts := unix.NsecToTimespec(int64(delay))
		if _, err := unix.Ppoll(fds, &ts, nil); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("poll on the output pipe: %w", err)
		}
		if fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			return errReaderGone
		}
		if delay < 5*time.Millisecond {
			delay *= 2
		}
	}
}

// isPipe reports whether fd is a pipe (dpkg hands dpkg-deb one).
func isPipe(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}
