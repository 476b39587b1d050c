package deb

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// UseXZTool says whether xz members are decoded and encoded by the
// system's xz (liblzma) when it is installed. Measured on 297 Debian
// packages (371 MB of data.tar): about the same CPU as the pure-Go decoder
// (some 10% less), but decoding runs in its own process beside the hashing,
// so one package is signed 2-3 times faster in wall time when a core is
// free. With every core busy signing (imaboot-debsign mirror) the two are
// even. Tests turn it off to cover the Go path.
var UseXZTool = true

var lookXZ = sync.OnceValue(func() string {
	p, _ := exec.LookPath("xz")
	return p
})

func xzTool() string {
	if !UseXZTool {
		return ""
	}
	return lookXZ()
}

// toolReader streams `xz -dc` over b. A corrupt stream is an error from
// Read (xz's own message), never a silent short read.
func toolReader(tool string, b []byte) (io.ReadCloser, error) {
	r := &cmdReader{cmd: exec.Command(tool, "-dc")}
	r.cmd.Stdin = bytes.NewReader(b)
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	r.out = out
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", tool, err)
	}
	return r, nil
}

type cmdReader struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr bytes.Buffer
	done   bool
	err    error
}

func (r *cmdReader) Read(p []byte) (int, error) {
	n, err := r.out.Read(p)
	if err == io.EOF {
		if werr := r.wait(); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (r *cmdReader) wait() error {
	if !r.done {
		r.done = true
		if err := r.cmd.Wait(); err != nil {
			r.err = fmt.Errorf("xz: %v: %s", err, strings.TrimSpace(r.stderr.String()))
		}
	}
	return r.err
}

// Close stops xz if the stream was not read to its end.
func (r *cmdReader) Close() error {
	if !r.done {
		r.cmd.Process.Kill()
		r.wait()
		return nil
	}
	return r.err
}

// toolCompress is `xz -c` over b (the defaults dpkg-deb and Debian's
// indexes use).
func toolCompress(tool string, b []byte) ([]byte, error) {
	cmd := exec.Command(tool, "-c", "-6")
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("xz: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
