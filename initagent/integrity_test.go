package initagent

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/policygen"
	"github.com/imaboot/imaboot/securityfs"
)

// The integrity steps against fakes: securityfs is a directory whose
// writers record what the agent hands the kernel; keyrings live in a
// throw-away session keyring (real add_key, so these need root).

// fakeEVM is <securityfs>/evm: it keeps what evm_read_key prints and
// records each write.
type fakeEVM struct {
	root   string
	writes []string
	refuse error // returned by every write when set
}

func newFakeEVM(t *testing.T) *fakeEVM {
	e := &fakeEVM{root: t.TempDir()}
	must(t, os.WriteFile(filepath.Join(e.root, "evm"), []byte("0\n"), 0o644))
	return e
}

func (e *fakeEVM) fs() securityfs.FS {
	return securityfs.FS{Root: e.root, OpenWriter: func(string) (securityfs.Writer, error) { return e, nil }}
}

func (e *fakeEVM) Write(p []byte) (int, error) {
	e.writes = append(e.writes, string(p))
	if e.refuse != nil {
		return 0, e.refuse
	}
	v, err := strconv.ParseUint(string(p), 0, 32)
	if err != nil {
		return 0, unix.EINVAL
	}
	os.WriteFile(filepath.Join(e.root, "evm"), []byte(fmt.Sprint(uint32(v)&^securityfs.EVMSetupComplete)), 0o644)
	return len(p), nil
}

func (e *fakeEVM) Close() error { return nil }

// keySession gives the test's OS thread a fresh session keyring (the
// thread is never unlocked, so it ends with the test) and returns it.
func keySession(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("keyring tests need root")
	}
	runtime.LockOSThread()
	sess, err := unix.KeyctlJoinSessionKeyring(fmt.Sprintf("imaboot-initagent-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err != nil {
		t.Fatalf("join session keyring: %v", err)
	}
	t.Cleanup(func() {
		unix.KeyctlInt(unix.KEYCTL_CLEAR, sess, 0, 0, 0)
		unix.KeyctlInt(unix.KEYCTL_INVALIDATE, sess, 0, 0, 0)
	})
	return sess
}

func keyAlive(id int) bool {
	_, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	return err == nil
}

func TestEnableEVMWritesWhatLoaded(t *testing.T) {
	for _, tc := range []struct {
		name     string
		evmCerts int
		bits     string
		want     string
	}{
		{"X509", 2, "", "0x80000002"},
		{"X509 and metadata writes", 1, "0x4", "0x80000006"},
	} {
		a, _, _ := testAgent(t, Enforce)
		e := newFakeEVM(t)
		a.secfs = e.fs()
		a.Config.EVMBits = tc.bits
		detail, err := a.enableEVM(0, tc.evmCerts, "")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if strings.Join(e.writes, ",") != tc.want || !strings.Contains(detail, "wrote "+tc.want) {
			t.Errorf("%s: wrote %q (%s), want %s", tc.name, e.writes, detail, tc.want)
		}
	}
}

// TestEnableEVMDropsTheHMACKey: with evm-key the HMAC bit is written, then
// the key is invalidated: EVM holds its own copy.
func TestEnableEVMDropsTheHMACKey(t *testing.T) {
	sess := keySession(t)
	key, err := unix.AddKey("user", "evm-key-test", []byte("0123456789abcdef"), sess)
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := testAgent(t, Enforce)
	a.kernel = "6.12.117+deb13-cloud-amd64"
	e := newFakeEVM(t)
	a.secfs = e.fs()
	detail, err := a.enableEVM(key, 0, "lockdown,capability,bpf,ima,evm")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(e.writes, ",") != "0x80000001" || !strings.Contains(detail, "kernel reports 0x1 (HMAC)") {
		t.Errorf("wrote %q (%s), want 0x80000001", e.writes, detail)
	}
	if keyAlive(key) {
		t.Error("evm-key still in the kernel after enable-evm")
	}
}

// TestEnableEVMRefusesWithoutWriting: no key at all, a configured bit
// without its key, the 6.1+bpf crash and a refusing kernel all fail (or
// skip) with nothing enabled.
func TestEnableEVMRefusesWithoutWriting(t *testing.T) {
	a, _, _ := testAgent(t, Enforce)
	e := newFakeEVM(t)
	a.secfs = e.fs()
	var skip skipped
	if _, err := a.enableEVM(0, 0, ""); !errors.As(err, &skip) {
		t.Errorf("nothing loaded: %v, want a skip", err)
	}
	a.Config.EVMBits = "0x80000002"
	if _, err := a.enableEVM(0, 0, ""); err == nil || errors.As(err, &skip) || !strings.Contains(err.Error(), "EVM_BITS=0x80000002") {
		t.Errorf("EVM_BITS without a key: %v", err)
	}
	a.Config.EVMBits = "0x1"
	if _, err := a.enableEVM(0, 1, ""); err == nil || !strings.Contains(err.Error(), "HMAC bit configured") {
		t.Errorf("HMAC bit without evm-key: %v", err)
	}
	a.Config.EVMBits = ""
	a.kernel = "6.1.0-56-cloud-amd64"
	if _, err := a.enableEVM(99, 1, "capability,bpf,ima,evm"); err == nil || !strings.Contains(err.Error(), "bpf") {
		t.Errorf("6.1 with bpf: %v", err)
	}
	if len(e.writes) != 0 {
		t.Errorf("wrote %q while refusing", e.writes)
	}
	e.refuse = unix.EPERM
	if _, err := a.enableEVM(0, 1, ""); err == nil || !strings.Contains(err.Error(), "already completed") {
		t.Errorf("kernel refusal: %v", err)
	}
}

// certRoot is a root with RSA certificates at the given paths (relative),
// and returns their key ids (the SKI's last 4 bytes, as the kernel
// matches signatures).
func certRoot(t *testing.T, paths ...string) (string, []string) {
	t.Helper()
	root := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, p := range paths {
		ski := []byte{9, 9, 9, 9, 0xa0, 0, 0, byte(i + 1)}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "agent test " + p},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), SubjectKeyId: ski}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		p = filepath.Join(root, p)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, der, 0o644))
		ids = append(ids, fmt.Sprintf("%x", ski[4:]))
	}
	return root, ids
}

// certAgent reads from root and puts _ima and _evm into a session keyring
// (the fake /proc/keys lists no trusted keyring).
func certAgent(t *testing.T, root string, mode Mode) (*Agent, int) {
	sess := keySession(t)
	procKeys := filepath.Join(t.TempDir(), "keys")
	must(t, os.WriteFile(procKeys, nil, 0o644))
	a := inputsAgent(t, root)
	a.Config.Mode = mode
	a.Config.IMAPolicy = ""
	a.imaRing = keyload.RingSpec{Trusted: ".ima", Fallback: "_ima", Parent: sess, ProcKeys: procKeys}
	a.evmRing = keyload.RingSpec{Trusted: ".evm", Fallback: "_evm", Parent: sess, ProcKeys: procKeys}
	return a, sess
}

// ringHolds says whether the keyring name under sess has the key id.
func ringHolds(t *testing.T, sess int, name, keyID string) bool {
	t.Helper()
	ring, err := unix.KeyctlSearch(sess, "keyring", name, 0)
	if err != nil {
		return false
	}
	_, err = unix.KeyctlSearch(ring, "asymmetric", "id:"+keyID, 0)
	return err == nil
}

func TestIMACertificatesLoadIntoTheIMARing(t *testing.T) {
	root, ids := certRoot(t, "etc/keys/ima/a.der", "etc/keys/ima/b.der")
	a, sess := certAgent(t, root, Enforce)
	detail, _, err := a.loadIMACertificates(a.waitInputs(&inputs{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "2") {
		t.Errorf("detail %q does not count 2 certificates", detail)
	}
	for _, id := range ids {
		if !ringHolds(t, sess, "_ima", id) {
			t.Errorf("key %s not in _ima", id)
		}
	}
}

// TestIMACertificatesMinimum: enforce wants one certificate, so an empty
// directory fails; permissive without a directory skips.
func TestIMACertificatesMinimum(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "etc/keys/ima"), 0o755))
	a, _ := certAgent(t, root, Enforce)
	if _, _, err := a.loadIMACertificates(a.waitInputs(&inputs{}), nil); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Errorf("empty directory in enforce: %v", err)
	}
	a, _ = certAgent(t, t.TempDir(), Permissive)
	var skip skipped
	if _, _, err := a.loadIMACertificates(a.waitInputs(&inputs{}), nil); !errors.As(err, &skip) || !strings.Contains(err.Error(), "etc/keys/ima") {
		t.Errorf("no directory in permissive: %v, want a skip naming it", err)
	}
}

// TestEVMCertificatesCountForTheX509Bit: the directory and EVM_X509 both
// load into _evm, and the count handed on is what loaded; nothing
// configured makes no _evm; a bad certificate hands on 0.
func TestEVMCertificatesCountForTheX509Bit(t *testing.T) {
	root, ids := certRoot(t, "etc/keys/evm/a.der", "etc/keys/x509_evm.der")
	a, sess := certAgent(t, root, Enforce)
	a.Config.EVMX509 = "/etc/keys/x509_evm.der"
	_, n, _, err := a.loadEVMCertificates(a.waitInputs(&inputs{}), nil)
	if err != nil || n != 2 {
		t.Fatalf("loaded %d, %v; want 2", n, err)
	}
	for _, id := range ids {
		if !ringHolds(t, sess, "_evm", id) {
			t.Errorf("key %s not in _evm", id)
		}
	}

	a, sess = certAgent(t, t.TempDir(), Enforce)
	var skip skipped
	if _, n, _, err := a.loadEVMCertificates(a.waitInputs(&inputs{}), nil); !errors.As(err, &skip) || n != 0 {
		t.Errorf("nothing configured: %d, %v; want a skip", n, err)
	}
	if _, err := unix.KeyctlSearch(sess, "keyring", "_evm", 0); err == nil {
		t.Error("an empty _evm keyring was made with nothing to load")
	}

	root, _ = certRoot(t, "etc/keys/evm/a.der")
	must(t, os.WriteFile(filepath.Join(root, "etc/keys/evm/b.der"), []byte("\x30\x82\x01\x00broken"), 0o644))
	a, _ = certAgent(t, root, Permissive)
	if _, n, _, err := a.loadEVMCertificates(a.waitInputs(&inputs{}), nil); err == nil || n != 0 || !strings.Contains(err.Error(), "b.der") {
		t.Errorf("a bad certificate: %d, %v; want 0 and an error naming b.der", n, err)
	}
}

// fakePolicy is <securityfs>/ima/policy of a kernel without
// IMA_WRITE_POLICY: it records the session and removes the file when a
// session closes without a refused write; it refuses rules containing
// refuse (EINVAL).
type fakePolicy struct {
	root    string
	refuse  string
	writes  []string
	loaded  []string
	invalid bool
}

func newFakePolicy(t *testing.T) *fakePolicy {
	p := &fakePolicy{root: t.TempDir()}
	must(t, os.MkdirAll(filepath.Join(p.root, "ima"), 0o755))
	must(t, os.WriteFile(filepath.Join(p.root, "ima/policy"), nil, 0o600))
	must(t, os.WriteFile(filepath.Join(p.root, "cmdline"), []byte("root=/dev/vda\n"), 0o644))
	return p
}

func (p *fakePolicy) fs() securityfs.FS {
	return securityfs.FS{
		Root:          p.root,
		OpenWriter:    func(string) (securityfs.Writer, error) { p.writes, p.invalid = nil, false; return p, nil },
		OpenKernelLog: func() (securityfs.KernelLog, error) { return noLog{}, nil },
		StateDir:      filepath.Join(p.root, "run"),
		Cmdline:       filepath.Join(p.root, "cmdline"),
		PrintkBurst:   "-",
		AuditWait:     time.Millisecond,
	}
}

func (p *fakePolicy) Write(b []byte) (int, error) {
	p.writes = append(p.writes, string(b))
	if strings.HasPrefix(string(b), "imaboot-abort") || strings.HasPrefix(string(b), "/") || (p.refuse != "" && strings.Contains(string(b), p.refuse)) {
		p.invalid = true
		return 0, unix.EINVAL
	}
	return len(b), nil
}

func (p *fakePolicy) Close() error {
	if !p.invalid {
		p.loaded = p.writes
		os.Remove(filepath.Join(p.root, "ima/policy"))
	}
	return nil
}

type noLog struct{}

func (noLog) Read() ([]string, error) { return nil, nil }
func (noLog) Close() error            { return nil }

func policyAgent(t *testing.T, policy string) (*Agent, *fakePolicy, *strings.Builder) {
	a, out, _ := testAgent(t, Enforce)
	a.NewRoot, a.kernel = inputsRoot(t, policy), "6.1.0-56-cloud-amd64"
	a.Config.KeysFromRoot = true
	p := newFakePolicy(t)
	a.secfs = p.fs()
	return a, p, out
}

// TestPolicyWritesTheCheckedRules: comments gone, one rule per write, in
// canonical form, after imaboot's canary rule (the policy appraises),
// committed and confirmed.
func TestPolicyWritesTheCheckedRules(t *testing.T) {
	a, p, _ := policyAgent(t, "# boot policy\nmeasure func=BPRM_CHECK\n\nappraise   func=MODULE_CHECK appraise_type=imasig\n")
	var pl policyLoad
	detail, err := a.loadPolicy(a.waitInputs(&inputs{}), &pl)
	if err != nil {
		t.Fatal(err)
	}
	want := canaryRule + "\n|measure func=BPRM_CHECK\n|appraise func=MODULE_CHECK appraise_type=imasig\n"
	if strings.Join(p.loaded, "|") != want {
		t.Errorf("kernel got %q, want %q", p.loaded, want)
	}
	if !strings.Contains(detail, "2 rules (after 1 of imaboot's own)") || !strings.Contains(detail, "removed the policy file") {
		t.Errorf("detail %q", detail)
	}
	if !pl.loaded || !pl.canary || !pl.appraises || pl.marker {
		t.Errorf("policy load %+v", pl)
	}

	// A policy that appraises nothing gets no canary rule.
	a, p, _ = policyAgent(t, "measure func=BPRM_CHECK\n")
	pl = policyLoad{}
	if _, err := a.loadPolicy(a.waitInputs(&inputs{}), &pl); err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.loaded, "|") != "measure func=BPRM_CHECK\n" || pl.canary || pl.appraises {
		t.Errorf("measure-only policy: kernel got %q, %+v", p.loaded, pl)
	}
}

// TestPolicyBreakGlass: a break-glass boot whose kernel would enforce
// loads the policy without its appraise rules, after the marker rule; with
// the kernel in fix mode it loads the policy whole; with nothing left (or
// no policy) the marker rule alone.
func TestPolicyBreakGlass(t *testing.T) {
	const policy = "dont_appraise fsmagic=0x9fa0\nmeasure func=BPRM_CHECK\nappraise func=BPRM_CHECK appraise_type=imasig\nhash fowner=0\n"
	for _, tc := range []struct {
		name, policy, mode string
		noPolicy           bool
		want               []string
	}{
		{"kernel enforces", policy, AppraiseEnforce, false, []string{markerRule, "measure func=BPRM_CHECK", "hash fowner=0"}},
		{"ima_appraise=fix", policy, AppraiseFix, false, []string{markerRule, "dont_appraise fsmagic=0x9fa0", "measure func=BPRM_CHECK", "appraise func=BPRM_CHECK appraise_type=imasig", "hash fowner=0"}},
		{"only appraise rules", "appraise func=BPRM_CHECK appraise_type=imasig\n", AppraiseEnforce, false, []string{markerRule}},
		{"no policy", policy, AppraiseEnforce, true, []string{markerRule}},
	} {
		a, p, _ := policyAgent(t, tc.policy)
		a.Config.BreakGlass, a.Config.Mode = true, Permissive
		a.appraisal = KernelAppraisal{Mode: tc.mode}
		if tc.noPolicy {
			a.Config.IMAPolicy = ""
		}
		var pl policyLoad
		if _, err := a.loadPolicy(a.waitInputs(&inputs{}), &pl); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, w := range p.loaded {
			got = append(got, strings.TrimSuffix(w, "\n"))
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || !pl.marker || pl.canary {
			t.Errorf("%s: kernel got %q, want %q (%+v)", tc.name, got, tc.want, pl)
		}
	}
}

// TestPolicyRefusalsLoadNothing: a rule the check refuses is never
// written; one the kernel refuses aborts the session; no policy skips.
func TestPolicyRefusalsLoadNothing(t *testing.T) {
	a, p, _ := policyAgent(t, "measure func=BPRM_CHECK bogus_condition=1\n")
	if _, err := a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{}); err == nil || !strings.Contains(err.Error(), "nothing written") {
		t.Errorf("invalid rule: %v", err)
	}
	if len(p.writes) != 0 {
		t.Errorf("wrote %q for a policy that failed its check", p.writes)
	}

	a, p, _ = policyAgent(t, "measure func=BPRM_CHECK\nappraise func=MODULE_CHECK\n")
	p.refuse = "MODULE_CHECK"
	if _, err := a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{}); err == nil || !strings.Contains(err.Error(), "rule 2 ") {
		t.Errorf("kernel refusal: %v", err)
	}
	if p.loaded != nil {
		t.Errorf("kernel committed %q after a refusal", p.loaded)
	}

	a, p, _ = policyAgent(t, "measure func=BPRM_CHECK\n")
	a.Config.IMAPolicy = ""
	var skip skipped
	if _, err := a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{}); !errors.As(err, &skip) || p.writes != nil {
		t.Errorf("no policy configured: %v, wrote %q", err, p.writes)
	}
}

// TestPolicyBypassesSummedUp: a deliberately open profile (the seed) boots
// with one clause on the policy step's line naming its known bypasses, not
// a warning per rule; strict has none; other warnings stay one a line.
func TestPolicyBypassesSummedUp(t *testing.T) {
	seed, err := policygen.Generate(policygen.GenerateOptions{Profile: "seed", Kernel: policygen.Kernel61})
	if err != nil {
		t.Fatal(err)
	}
	a, _, out := policyAgent(t, seed)
	detail, err := a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "warning") {
		t.Errorf("the seed policy warned at boot:\n%s", out)
	}
	if !strings.Contains(detail, "; the policy leaves 10 known bypasses: no appraisal of MODULE_CHECK") || strings.Count(detail, "\n") != 0 {
		t.Errorf("detail %q", detail)
	}

	strict, _ := policygen.Generate(policygen.GenerateOptions{Profile: "strict", Kernel: policygen.Kernel61})
	a, _, out = policyAgent(t, strict)
	if detail, err = a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{}); err != nil || strings.Contains(detail, "bypass") || out.Len() != 0 {
		t.Errorf("strict: %v, detail %q, console %q", err, detail, out)
	}

	a, _, out = policyAgent(t, "measure func=FILE_MMAP mask=MAY_EXEC\n")
	if detail, err = a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{}); err != nil || !strings.Contains(out.String(), "imaboot: warning: ") ||
		!strings.Contains(out.String(), "old alias") || !strings.Contains(detail, "1 known bypass: nothing appraised") {
		t.Errorf("alias: %v, detail %q, console %q", err, detail, out)
	}
}

// TestPolicyInitramfsInHookMode: a policy that appraises code without
// leaving the initramfs out is refused in hook mode (the generator's init
// would be refused its own programs after the hook, and the boot would
// stop with nothing saying why); as /init it loads, without the warning.
func TestPolicyInitramfsInHookMode(t *testing.T) {
	const policy = "appraise func=BPRM_CHECK appraise_type=imasig\n"
	a, p, _ := policyAgent(t, policy)
	a.hook = true
	_, err := a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{})
	if err == nil || !strings.Contains(err.Error(), `without an earlier "dont_appraise fsname=rootfs"`) || !strings.Contains(err.Error(), "nothing written") || p.writes != nil {
		t.Errorf("hook mode: %v, wrote %q", err, p.writes)
	}
	a, p, out := policyAgent(t, policy)
	if _, err := a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{}); err != nil || p.loaded == nil || strings.Contains(out.String(), "rootfs") {
		t.Errorf("as /init: %v, loaded %q, console %q", err, p.loaded, out)
	}
	a, p, _ = policyAgent(t, "dont_appraise fsname=rootfs\n"+policy)
	a.hook = true
	if _, err := a.loadPolicy(a.waitInputs(&inputs{}), &policyLoad{}); err != nil || p.loaded == nil {
		t.Errorf("hook mode, initramfs left out: %v", err)
	}
}
