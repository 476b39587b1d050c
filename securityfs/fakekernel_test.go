package securityfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeKernel imitates security/integrity/ima/ima_fs.c for the policy file:
// one writer at a time (EBUSY), one rule parsed per write returning
// strlen(rule)+1, a refused write marks the session invalid, close commits
// a valid session and discards an invalid one, a committed policy removes
// the file (or drops its write bit), signed-policy mode refuses rules with
// EACCES and reads an absolute path itself. It logs like the kernel:
// "ima:" lines at once, audit records one Read later (kauditd is async).
//
// Layout under root:
//
//	ima/policy                        the policy file (a regular file)
//	ima/ascii_runtime_measurements    for the measurement tests
type fakeKernel struct {
	t    *testing.T
	root string

	requireSigned bool // IMA_APPRAISE_POLICY active
	ignoreRules   bool // IMA_APPRAISE_POLICY without IMA_APPRAISE_ENFORCE
	extra         int  // added to every accepted write's count
	shortAt       int  // rule index answered with a short count, -1 none
	busy          bool // another writer holds the file
	onLoad        string
	failAtClose   bool // ima_check_policy refuses the combined policy

	burstSeen string // printk burst sysctl value when the session opened
	audits    int    // audit records logged, for printk's rate limit

	mu      sync.Mutex
	events  []string
	session []string
	valid   bool
	loaded  [][]string
	log     fakeLog
	nrules  int
}

const (
	onLoadRemove   = "remove"   // no IMA_WRITE_POLICY
	onLoadReadOnly = "readonly" // IMA_READ_POLICY only
	onLoadKeep     = "keep"     // IMA_WRITE_POLICY without READ_POLICY
)

func newFakeKernel(t *testing.T) *fakeKernel {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "ima"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ima", "policy"), nil, 0o200); err != nil {
		t.Fatal(err)
	}
	return &fakeKernel{t: t, root: root, shortAt: -1, onLoad: onLoadRemove, valid: true}
}

func (k *fakeKernel) fs() FS {
	state := filepath.Join(k.root, "run-imaboot")
	cmdline := filepath.Join(k.root, "cmdline")
	if _, err := os.Stat(cmdline); err != nil {
		os.WriteFile(cmdline, []byte("console=ttyS0 root=/dev/vda\n"), 0o644)
	}
	burst := filepath.Join(k.root, "printk_ratelimit_burst")
	if _, err := os.Stat(burst); err != nil {
		os.WriteFile(burst, []byte("10\n"), 0o644)
	}
	return FS{
		PrintkBurst:   burst,
		Root:          k.root,
		OpenWriter:    k.open,
		OpenKernelLog: func() (KernelLog, error) { return &k.log, nil },
		StateDir:      state,
		Cmdline:       cmdline,
		AuditWait:     200 * time.Millisecond,
	}
}

func (k *fakeKernel) policyPath() string { return filepath.Join(k.root, "ima", "policy") }

func (k *fakeKernel) open(path string) (Writer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if path != k.policyPath() {
		k.t.Errorf("opened %s, want %s", path, k.policyPath())
	}
	if _, err := os.Stat(path); err != nil {
		return nil, &PathError{Op: "open for writing", Path: path, Err: unix.ENOENT}
	}
	if k.busy {
		return nil, &PathError{Op: "open for writing", Path: path, Err: unix.EBUSY}
	}
	k.busy = true
	burst, _ := os.ReadFile(filepath.Join(k.root, "printk_ratelimit_burst"))
	k.burstSeen = strings.TrimSpace(string(burst))
	k.events = append(k.events, "open")
	k.session, k.valid, k.nrules = nil, true, 0
	return fakeSession{k}, nil
}

type fakeSession struct{ k *fakeKernel }

func (s fakeSession) Write(p []byte) (int, error) { return s.k.write(p) }
func (s fakeSession) Close() error                { return s.k.close() }

func (k *fakeKernel) write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.events = append(k.events, "write "+string(p))
	if len(p) > 0 && p[0] == '/' {
		path := strings.TrimSuffix(string(p), "\n")
		data, err := os.ReadFile(path)
		if err != nil {
			k.log.now("ima: Unable to open file: %s (-2)", path)
			k.valid = false
			return 0, unix.ENOENT
		}
		for _, r := range strings.Split(string(data), "\n") {
			if r == "" {
				continue
			}
			if why := fakeParseRule(r); why != "" {
				k.audit("type=1807 audit(1.0:%d): action=%s %s res=0", k.nrules, strings.Fields(r)[0], why)
				k.valid = false
				return 0, unix.EINVAL
			}
			k.session = append(k.session, r)
		}
		return len(p), nil
	}
	if k.ignoreRules {
		k.log.now("ima: signed policy file (specified as an absolute pathname) required")
		return 0, nil // result stays 0: the session stays valid
	}
	if k.requireSigned {
		k.log.now("ima: signed policy file (specified as an absolute pathname) required")
		k.audit(`type=1802 audit(1.0:1): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=kernel op=policy_update cause="signed policy required" comm="init" res=0`)
		k.valid = false
		return 0, unix.EACCES
	}
	rule, _, _ := strings.Cut(string(p), "\n")
	n := len(rule) + 1 // the kernel counts the newline even when absent
	i := k.nrules
	k.nrules++
	if why := fakeParseRule(rule); why != "" {
		k.audit("type=1807 audit(1.0:%d): action=%s %s res=0", i, strings.Fields(rule + " x")[0], why)
		k.valid = false
		return 0, unix.EINVAL
	}
	k.audit("type=1807 audit(1.0:%d): action=%s res=1", i, strings.Fields(rule)[0])
	k.session = append(k.session, rule)
	if i == k.shortAt {
		return n / 2, nil
	}
	return n + k.extra, nil
}

// audit logs an audit record unless printk's rate limit (the burst sysctl,
// never reset: a test runs within one 5 s interval) has dropped it, as
// kauditd's printk_ratelimit() does.
func (k *fakeKernel) audit(format string, args ...any) {
	k.audits++
	burst, _ := os.ReadFile(filepath.Join(k.root, "printk_ratelimit_burst"))
	if n, err := strconv.Atoi(strings.TrimSpace(string(burst))); err == nil && k.audits > n {
		return
	}
	k.log.audit(format, args...)
}

func (k *fakeKernel) close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.events = append(k.events, "close")
	k.busy = false
	if k.valid && k.failAtClose {
		k.valid = false
	}
	if !k.valid {
		k.log.now("ima: policy update failed")
		k.session = nil
		return nil
	}
	k.log.now("ima: policy update completed")
	k.loaded = append(k.loaded, k.session)
	switch k.onLoad {
	case onLoadRemove:
		os.Remove(k.policyPath())
	case onLoadReadOnly:
		os.Chmod(k.policyPath(), 0o400)
	}
	return nil
}

// fakeParseRule knows enough of the grammar to refuse made-up words.
func fakeParseRule(rule string) string {
	f := strings.Fields(rule)
	if len(f) == 0 {
		return "UNKNOWN="
	}
	switch f[0] {
	case "measure", "dont_measure", "appraise", "dont_appraise", "audit", "hash", "dont_hash":
	default:
		return "UNKNOWN=" + f[0]
	}
	for _, w := range f[1:] {
		key, val, _ := strings.Cut(w, "=")
		switch key {
		case "func":
			switch val {
			case "BPRM_CHECK", "FILE_MMAP", "MMAP_CHECK", "FILE_CHECK", "MODULE_CHECK", "FIRMWARE_CHECK", "POLICY_CHECK", "KEXEC_KERNEL_CHECK":
			default:
				return "func=" + val + " UNKNOWN=func"
			}
		case "mask", "fsmagic", "uid", "fowner", "appraise_type", "fsuuid", "euid", "template":
		default:
			return "UNKNOWN=" + w
		}
	}
	return ""
}

func (k *fakeKernel) Events() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.events...)
}

// fakeLog hands out "now" messages at the next Read and audit messages one
// Read later.
type fakeLog struct {
	mu      sync.Mutex
	ready   []string
	pending []string
}

func (l *fakeLog) now(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ready = append(l.ready, fmt.Sprintf(format, args...))
}

func (l *fakeLog) audit(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, "audit: "+fmt.Sprintf(format, args...))
}

func (l *fakeLog) Read() ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.ready
	l.ready, l.pending = l.pending, nil
	return out, nil
}

func (l *fakeLog) Close() error { return nil }
