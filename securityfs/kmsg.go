package securityfs

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// kmsg follows /dev/kmsg from the moment it was opened.
type kmsg struct {
	fd  int
	buf []byte
}

// OpenKmsgReader opens a /dev/kmsg-format device for reading, non-blocking,
// positioned after the last record already logged, so Read returns only
// what comes next. (The agent's log writer is initagent's openKmsgWriter.)
func OpenKmsgReader(path string) (KernelLog, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &PathError{Op: "open kernel log", Path: path, Err: err}
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return nil, &PathError{Op: "seek to the end of kernel log", Path: path, Err: err}
	}
	return &kmsg{fd: fd, buf: make([]byte, 8192)}, nil
}

// Read returns the messages of the records logged since the last Read.
// Each read(2) of /dev/kmsg returns one record:
// "prio,seq,usec,flags;message\n" followed by " KEY=value" lines.
func (k *kmsg) Read() ([]string, error) {
	var msgs []string
	for {
		n, err := unix.Read(k.fd, k.buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return msgs, nil
		case errors.Is(err, unix.EPIPE), errors.Is(err, unix.EINTR):
			continue // records overwritten before we read them; go on
		case err != nil:
			return msgs, &PathError{Op: "read", Path: "kernel log", Err: err}
		case n == 0:
			return msgs, nil
		}
		msgs = append(msgs, kmsgMessage(string(k.buf[:n])))
	}
}

func (k *kmsg) Close() error { return unix.Close(k.fd) }

func kmsgMessage(record string) string {
	if i := strings.IndexByte(record, ';'); i >= 0 {
		record = record[i+1:]
	}
	if i := strings.IndexByte(record, '\n'); i >= 0 {
		record = record[:i]
	}
	return record
}

// integrityMessages keeps the messages that explain an IMA/EVM decision:
// audit records of type 1800 (an appraisal, e.g. of a signed policy file),
// 1802 (integrity status, e.g. "policy_update") and 1807 (a parsed policy
// rule, with res=0 when refused), and the "ima:" and "evm:" lines the
// kernel prints itself.
func integrityMessages(msgs []string) []string {
	var keep []string
	for _, m := range msgs {
		if strings.Contains(m, "type=1807") || strings.Contains(m, "type=1802") || strings.Contains(m, "type=1800") ||
			strings.HasPrefix(m, "ima: ") || strings.HasPrefix(m, "evm: ") || strings.HasPrefix(m, "IMA: ") {
			keep = append(keep, m)
		}
	}
	return keep
}

// collectAudit gathers integrity messages from log until one arrives or
// wait runs out: kauditd prints audit records from its own thread.
func collectAudit(log KernelLog, wait time.Duration, until func([]string) bool) []string {
	if log == nil {
		return nil
	}
	var got []string
	deadline := time.Now().Add(wait)
	for {
		msgs, _ := log.Read()
		got = append(got, integrityMessages(msgs)...)
		if until(got) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// raiseAuditBurst lets at least n audit records through the printk rate
// limit until restore is called, so that the record explaining a refused
// rule is not dropped behind the records of the rules before it (seen:
// 2 of 11 records printed; see retellRefusal). Best effort: without /proc
// nothing changes.
func (fs FS) raiseAuditBurst(n int) (restore func()) {
	p := fs.printkBurst()
	if p == "-" {
		return func() {}
	}
	old, err := os.ReadFile(p)
	if err != nil {
		return func() {}
	}
	if cur, err := strconv.Atoi(strings.TrimSpace(string(old))); err != nil || cur >= n {
		return func() {}
	}
	if err := os.WriteFile(p, []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		return func() {}
	}
	return func() { os.WriteFile(p, old, 0o644) }
}
