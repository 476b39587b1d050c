// Package swtpm runs a software TPM (the swtpm program) for tests and
// host-side provisioning: it starts `swtpm socket` on a state directory
// with a server socket speaking raw TPM 2.0 commands, and stops it.
package swtpm

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Sim is a running swtpm.
type Sim struct {
	// StateDir holds the TPM's persistent state (seeds, NV): keep it to
	// keep the same "machine", e.g. for a QEMU guest started later.
	StateDir string
	// Socket is the server socket; tpm.Open("unix:"+Socket) talks to it.
	Socket string
	// Ctrl is swtpm's control socket.
	Ctrl string

	cmd  *exec.Cmd
	done chan error
}

// Start runs swtpm on stateDir (created if missing), with the sockets
// inside it. The TPM is started up (startup-clear), so it is ready for
// commands at once; PCRs start at their reset values.
func Start(stateDir string) (*Sim, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("swtpm state dir: %w", err)
	}
	s := &Sim{
		StateDir: stateDir,
		Socket:   filepath.Join(stateDir, "server.sock"),
		Ctrl:     filepath.Join(stateDir, "ctrl.sock"),
		done:     make(chan error, 1),
	}
	os.Remove(s.Socket)
	os.Remove(s.Ctrl)
	s.cmd = exec.Command("swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+stateDir,
		"--server", "type=unixio,path="+s.Socket,
		"--ctrl", "type=unixio,path="+s.Ctrl,
		"--flags", "not-need-init,startup-clear")
	var stderr limitedBuffer
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start swtpm: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The socket file exists from bind(); only a connection shows
		// that swtpm listens. swtpm serves one client at a time, so the
		// probe is closed at once.
		if c, err := net.Dial("unix", s.Socket); err == nil {
			c.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("swtpm exited before its socket appeared: %v: %s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, errors.New("swtpm: socket did not accept connections within 10 s")
		}
	}
}

// Close stops swtpm and waits for it; the state directory stays.
func (s *Sim) Close() error {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	<-s.done
	s.done <- nil
	os.Remove(s.Socket)
	os.Remove(s.Ctrl)
	return nil
}

// limitedBuffer keeps the first 4 KiB of swtpm's error output.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
