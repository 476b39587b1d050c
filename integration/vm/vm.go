// Package vm boots a kernel and an initramfs in QEMU (TCG, see
// shared/TESTING.md: a stock kernel hangs under KVM here), optionally with a
// software TPM (swtpm), and reads the serial console so tests can wait for
// marker lines. Every machine started is stopped by Stop, also on failure.
package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options describe one machine.
type Options struct {
	Kernel string   // vmlinuz
	Initrd string   // initramfs
	Disks  []string // raw images, attached as virtio disks vda, vdb, ...
	Append string   // kernel command line (console=ttyS0 is added)
	// UEFI, when set, boots firmware instead of Kernel and Initrd: the
	// boot loader on UEFI.ESP finds the kernel and its command line.
	UEFI   *UEFI
	Memory int // MiB; default 512
	// TPMState, when set, is a swtpm state directory: a TPM 2.0 is attached
	// and its state survives the machine (reboot the same "machine" by
	// starting another with the same directory).
	TPMState string
	// Echo, when set, receives the console as it comes (make demo).
	Echo io.Writer
}

// UEFI is the firmware of a machine that boots like a PC: OVMF in two flash
// chips (its code, read-only, and its variable store, which keeps what the
// boot writes: Machine Owner Keys, boot entries) and an EFI system
// partition. With SecureBoot the machine is a q35 with SMM, and the code is
// the build of OVMF that enforces Secure Boot (OVMF_CODE_4M.secboot.fd):
// only SMM may write its authenticated variables.
type UEFI struct {
	Code, Vars string
	// ESP is a raw disk image holding the EFI system partition, first in
	// the firmware's boot order. QEMU puts its device before the
	// Options.Disks (the guest sees it as vda): find the root by label.
	ESP        string
	SecureBoot bool
}

// Machine is a running QEMU.
type Machine struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	swtpm *exec.Cmd
	done  chan struct{}
	err   error

	mu      sync.Mutex
	console bytes.Buffer
	changed chan struct{}
}

// Start boots a machine. Call Stop when done (t.Cleanup).
func Start(opts Options) (*Machine, error) {
	if opts.Memory == 0 {
		opts.Memory = 512
	}
	m := &Machine{done: make(chan struct{}), changed: make(chan struct{}, 1)}
	// -cpu max gives the guest RDRAND, as real machines have: without an
	// entropy source the first random read of a boot (the TPM session's
	// salt) waits 1-1.5 s for the kernel's CRNG under TCG.
	args := []string{
		"-accel", "tcg", "-cpu", "max", "-m", fmt.Sprint(opts.Memory), "-nodefaults", "-display", "none",
		"-no-reboot", "-serial", "stdio",
	}
	if opts.UEFI == nil {
		args = append(args, "-kernel", opts.Kernel, "-initrd", opts.Initrd,
			"-append", strings.TrimSpace("console=ttyS0 panic=-1 "+opts.Append))
	}
	for _, d := range opts.Disks {
		args = append(args, "-drive", "file="+d+",format=raw,if=virtio")
	}
	if u := opts.UEFI; u != nil {
		if u.SecureBoot {
			args = append(args, "-machine", "q35,smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on")
		} else {
			args = append(args, "-machine", "q35")
		}
		args = append(args,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+u.Code,
			"-drive", "if=pflash,format=raw,unit=1,file="+u.Vars,
			"-drive", "if=none,format=raw,id=esp,file="+u.ESP,
			"-device", "virtio-blk-pci,drive=esp,bootindex=0")
	}
	if opts.TPMState != "" {
		sock := filepath.Join(opts.TPMState, "ctrl.sock")
		os.Remove(sock)
		m.swtpm = exec.Command("swtpm", "socket", "--tpmstate", "dir="+opts.TPMState,
			"--ctrl", "type=unixio,path="+sock, "--tpm2", "--flags", "not-need-init,startup-clear")
		m.swtpm.Stderr = consoleWriter{m}
		m.swtpm.SysProcAttr = dieWithParent()
		if err := m.swtpm.Start(); err != nil {
			return nil, fmt.Errorf("start swtpm: %w", err)
		}
		if err := waitFile(sock, 5*time.Second); err != nil {
			m.swtpm.Process.Kill()
			m.swtpm.Wait()
			return nil, fmt.Errorf("swtpm: %w", err)
		}
		args = append(args, "-chardev", "socket,id=chrtpm,path="+sock,
			"-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0")
	}
	m.cmd = exec.Command("qemu-system-x86_64", args...)
	m.cmd.SysProcAttr = dieWithParent()
	w := io.Writer(consoleWriter{m})
	if opts.Echo != nil {
		w = io.MultiWriter(w, opts.Echo)
	}
	m.cmd.Stdout = w
	m.cmd.Stderr = w
	// The serial console's input: what Send types. Held open for the
	// machine's life (QEMU reads nothing until something is sent).
	stdin, err := m.cmd.StdinPipe()
	if err != nil {
		m.stopTPM()
		return nil, err
	}
	m.stdin = stdin
	if err := m.cmd.Start(); err != nil {
		m.stopTPM()
		return nil, fmt.Errorf("start qemu: %w", err)
	}
	go func() {
		m.err = m.cmd.Wait()
		m.stopTPM()
		close(m.done)
		m.notify()
	}()
	return m, nil
}

func waitFile(p string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %v", p, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type consoleWriter struct{ m *Machine }

func (c consoleWriter) Write(p []byte) (int, error) {
	c.m.mu.Lock()
	// Serial consoles end lines with \r\n.
	c.m.console.Write(bytes.ReplaceAll(p, []byte("\r"), nil))
	c.m.mu.Unlock()
	c.m.notify()
	return len(p), nil
}

func (m *Machine) notify() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// Console is everything the machine printed so far.
func (m *Machine) Console() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.console.String()
}

// Mark is a position in the console: ExpectFrom looks only after it.
func (m *Machine) Mark() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.console.Len()
}

// Send types s on the serial console (firmware menus, a shell).
func (m *Machine) Send(s string) error {
	_, err := io.WriteString(m.stdin, s)
	return err
}

// ErrExited is returned by Expect when the machine stopped first.
var ErrExited = errors.New("machine exited")

// Expect waits until the console matches re and returns the first match's
// submatches (whole match first).
func (m *Machine) Expect(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	return m.ExpectFrom(0, re, timeout)
}

// ExpectFrom is Expect on the console after mark (Mark).
func (m *Machine) ExpectFrom(mark int, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	since := func() string { return m.Console()[mark:] }
	for {
		if sm := re.FindStringSubmatch(since()); sm != nil {
			return sm, nil
		}
		select {
		case <-m.changed:
		case <-m.done:
			if sm := re.FindStringSubmatch(since()); sm != nil {
				return sm, nil
			}
			return nil, fmt.Errorf("waiting for %q: %w (%v)", re, ErrExited, m.err)
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %q: not seen within %v", re, timeout)
		}
	}
}

// ExpectString is Expect for a literal marker.
func (m *Machine) ExpectString(s string, timeout time.Duration) error {
	_, err := m.Expect(regexp.MustCompile(regexp.QuoteMeta(s)), timeout)
	return err
}

// Wait waits for the machine to power off by itself.
func (m *Machine) Wait(timeout time.Duration) error {
	select {
	case <-m.done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("machine still running after %v", timeout)
	}
}

// Stop kills the machine (and its swtpm) if it still runs. Safe to call
// more than once.
func (m *Machine) Stop() {
	select {
	case <-m.done:
		return
	default:
	}
	m.cmd.Process.Kill()
	<-m.done
}

func (m *Machine) stopTPM() {
	if m.swtpm == nil || m.swtpm.Process == nil {
		return
	}
	// swtpm exits when QEMU goes; make sure of it.
	m.swtpm.Process.Kill()
	m.swtpm.Wait()
}

// dieWithParent makes the kernel kill a child when the test process dies
// without running its cleanups (a panic, a timeout kill), so no machine
// outlives its test.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
