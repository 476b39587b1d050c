package tpm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
	"golang.org/x/sys/unix"
)

// DefaultDevice is the kernel's TPM resource manager: it flushes what a
// crashed user leaves behind and lets several users share the TPM.
const DefaultDevice = "/dev/tpmrm0"

// Open opens a TPM by name: a character device path (/dev/tpmrm0,
// /dev/tpm0) or "unix:PATH", the server socket of
// `swtpm socket --server type=unixio,path=PATH`.
func Open(name string) (transport.TPMCloser, error) {
	if path, ok := strings.CutPrefix(name, "unix:"); ok {
		conn, err := dialUnix(path)
		if err != nil {
			return nil, fmt.Errorf("open TPM socket %s: %w", path, err)
		}
		return &socketTPM{conn: conn}, nil
	}
	t, err := linuxtpm.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open TPM %s: %w", name, err)
	}
	return t, nil
}

// ErrNoTPM: the TPM device did not appear.
var ErrNoTPM = errors.New("no TPM")

// OpenWait opens a TPM device, waiting up to timeout for it to appear
// (the TPM driver may probe after the initramfs starts). Sockets are
// opened at once.
func OpenWait(name string, timeout time.Duration) (transport.TPMCloser, error) {
	if strings.HasPrefix(name, "unix:") {
		return Open(name)
	}
	deadline := time.Now().Add(timeout)
	for {
		_, err := os.Stat(name)
		if err == nil {
			return Open(name)
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open TPM %s: %w", name, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s did not appear within %v", ErrNoTPM, name, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// socketTPM speaks raw TPM 2.0 commands over one stream connection, as
// swtpm's server socket does: a command out, then one response whose
// length is in its header.
type socketTPM struct {
	mu   sync.Mutex
	conn *os.File
}

// dialUnix connects a stream socket by hand rather than with net.Dial:
// package net (its resolver, DNS messages, netip) is a fifth of a
// megabyte of imaboot-init that only this test-only path would use. An
// *os.File on a non-blocking socket still goes through the runtime poller,
// so deadlines work.
func dialUnix(path string) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), "unix:"+path), nil
}

const socketTimeout = 2 * time.Minute

// tpmHeaderSize is tag (2) + size (4) + code (4), in every command and response.
const tpmHeaderSize = 10

func (s *socketTPM) Send(cmd []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A TPM answers in milliseconds to seconds (RSA key generation); a
	// silent peer must not hang the caller forever.
	s.conn.SetDeadline(time.Now().Add(socketTimeout))
	if _, err := s.conn.Write(cmd); err != nil {
		return nil, fmt.Errorf("send TPM command: %w", err)
	}
	hdr := make([]byte, tpmHeaderSize)
	if _, err := io.ReadFull(s.conn, hdr); err != nil {
		return nil, fmt.Errorf("read TPM response header: %w", err)
	}
	size := binary.BigEndian.Uint32(hdr[2:6])
	if size < tpmHeaderSize || size > 1<<16 {
		return nil, fmt.Errorf("read TPM response: impossible size %d", size)
	}
	rsp := make([]byte, size)
	copy(rsp, hdr)
	if _, err := io.ReadFull(s.conn, rsp[tpmHeaderSize:]); err != nil {
		return nil, fmt.Errorf("read TPM response body: %w", err)
	}
	return rsp, nil
}

func (s *socketTPM) Close() error { return s.conn.Close() }
