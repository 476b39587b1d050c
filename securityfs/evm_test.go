package securityfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeEVM imitates evm_write_key/evm_read_key (evm_secfs.c) over a real
// file <root>/evm that holds what evm_read_key would print.
type fakeEVM struct {
	root        string
	initialized uint32
	hasKey      bool // an encrypted evm-key request_key can find
	writes      []string
}

func newFakeEVM(t *testing.T) *fakeEVM {
	e := &fakeEVM{root: t.TempDir()}
	e.publish()
	return e
}

func (e *fakeEVM) publish() {
	os.WriteFile(filepath.Join(e.root, "evm"), []byte(fmt.Sprintf("%d", int32(e.initialized&^EVMSetupComplete))), 0o660)
}

func (e *fakeEVM) fs() FS {
	return FS{Root: e.root, OpenWriter: func(string) (Writer, error) { return e, nil }}
}

func (e *fakeEVM) Write(p []byte) (int, error) {
	e.writes = append(e.writes, string(p))
	if e.initialized&EVMSetupComplete != 0 {
		return 0, unix.EPERM
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(p)), 0, 32)
	if err != nil {
		return 0, unix.EINVAL
	}
	i := uint32(v)
	if i == 0 || i&^evmInitMask != 0 {
		return 0, unix.EINVAL
	}
	if i&EVMAllowMetadataWrites != 0 && e.initialized&EVMInitHMAC != 0 {
		return 0, unix.EPERM
	}
	if i&EVMInitHMAC != 0 {
		if !e.hasKey {
			return 0, unix.ENOENT
		}
		i |= EVMSetupComplete
	}
	e.initialized |= i
	if e.initialized&EVMInitHMAC != 0 {
		e.initialized &^= EVMAllowMetadataWrites
	}
	e.publish()
	return len(p), nil
}

func (e *fakeEVM) Close() error { return nil }

func TestEVMValue(t *testing.T) {
	for _, tc := range []struct {
		req  EVMRequest
		want uint32
		err  string
	}{
		{EVMRequest{HMACKey: true}, 0x80000001, ""},
		{EVMRequest{X509: true}, 0x80000002, ""},
		{EVMRequest{HMACKey: true, X509: true}, 0x80000003, ""},
		{EVMRequest{X509: true, LeaveOpen: true}, 0x2, ""},
		{EVMRequest{X509: true, ExtraBits: EVMAllowMetadataWrites}, 0x80000006, ""},
		{EVMRequest{X509: true, ExtraBits: EVMSetupComplete, LeaveOpen: true}, 0x80000002, ""},
		{EVMRequest{}, 0, "neither evm-key nor an EVM certificate"},
		{EVMRequest{ExtraBits: EVMSetupComplete}, 0, "neither evm-key nor an EVM certificate"},
		{EVMRequest{X509: true, ExtraBits: EVMInitHMAC}, 0, "evm-key is not loaded"},
		{EVMRequest{HMACKey: true, ExtraBits: EVMInitX509}, 0, "no EVM certificate loaded"},
		{EVMRequest{HMACKey: true, ExtraBits: EVMAllowMetadataWrites}, 0, "cannot be combined"},
		{EVMRequest{HMACKey: true, ExtraBits: 0x10}, 0, "unknown bits 0x10"},
	} {
		got, err := EVMValue(tc.req)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: %#x, %v; want error %q", tc.req, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%+v: %#x, %v; want %#x", tc.req, got, err, tc.want)
		}
	}
}

func TestParseEVMBits(t *testing.T) {
	for in, want := range map[string]uint32{"0": 0, "2": 2, "0x80000000": EVMSetupComplete, " 2147483654\n": 0x80000006} {
		if got, err := ParseEVMBits(in); err != nil || got != want {
			t.Errorf("%q: %#x, %v; want %#x", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "0x100", "-1", "0x100000000"} {
		if _, err := ParseEVMBits(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEnableEVMOneWriteAndReadBack(t *testing.T) {
	e := newFakeEVM(t)
	e.hasKey = true
	res, err := EnableEVM(e.fs(), EVMRequest{HMACKey: true, X509: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.writes) != 1 || e.writes[0] != "0x80000003" {
		t.Errorf("writes %q, want one 0x80000003", e.writes)
	}
	if res.Before != 0 || res.Wrote != 0x80000003 || res.After != 3 {
		t.Errorf("result %+v", res)
	}
	if s := res.Summary(); !strings.Contains(s, "HMAC|X509|setup-complete") || !strings.Contains(s, "0x3 (HMAC|X509)") {
		t.Errorf("summary %q", s)
	}
	if got, err := ReadEVM(e.fs()); err != nil || got != 3 {
		t.Errorf("ReadEVM %#x, %v", got, err)
	}
	// Setup is complete: a second enable is refused by the kernel, and
	// the error says so.
	_, err = EnableEVM(e.fs(), EVMRequest{X509: true})
	if !errors.Is(err, unix.EPERM) || !strings.Contains(err.Error(), "already completed") {
		t.Errorf("second enable: %v", err)
	}
}

func TestEnableEVMRefusals(t *testing.T) {
	t.Run("no key", func(t *testing.T) {
		e := newFakeEVM(t)
		if _, err := EnableEVM(e.fs(), EVMRequest{}); err == nil || len(e.writes) != 0 {
			t.Fatalf("%v, writes %q", err, e.writes)
		}
	})
	t.Run("kernel cannot find evm-key", func(t *testing.T) {
		e := newFakeEVM(t)
		_, err := EnableEVM(e.fs(), EVMRequest{HMACKey: true})
		if !errors.Is(err, unix.ENOENT) || !strings.Contains(err.Error(), "no encrypted key named evm-key") || !strings.Contains(err.Error(), "ENOENT") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("no EVM in the kernel", func(t *testing.T) {
		_, err := EnableEVM(FS{Root: t.TempDir()}, EVMRequest{X509: true})
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "kernel has no EVM") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("read back disagrees", func(t *testing.T) {
		e := newFakeEVM(t)
		fs := e.fs()
		fs.OpenWriter = func(string) (Writer, error) { return discard{}, nil }
		_, err := EnableEVM(fs, EVMRequest{X509: true})
		if err == nil || !strings.Contains(err.Error(), "reads 0x0 (off)") {
			t.Fatalf("%v", err)
		}
	})
}

// The default writer on a real file (newer kernels: <root>/evm is a symlink
// to integrity/evm/evm).
func TestEnableEVMDefaultWriterThroughSymlink(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "integrity", "evm"), 0o755)
	os.WriteFile(filepath.Join(root, "integrity", "evm", "evm"), []byte("0"), 0o660)
	os.Symlink("integrity/evm/evm", filepath.Join(root, "evm"))
	_, err := EnableEVM(FS{Root: root}, EVMRequest{X509: true})
	// A plain file keeps what was written, which is not what the kernel
	// prints: the read back must notice.
	if err == nil || !strings.Contains(err.Error(), "is not a number") {
		t.Fatalf("%v", err)
	}
	data, _ := os.ReadFile(filepath.Join(root, "integrity", "evm", "evm"))
	if string(data) != "0x80000002" {
		t.Errorf("file holds %q", data)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Close() error                { return nil }
