package integration

// Root of the relabel tests, as built before imaboot-relabel runs on it:
//
//	/bin/busybox (+ applets), /sbin/init (fixture.MarkerInit), /test.sh
//	/bin/xattrdump       reads security.ima / security.evm in the guest
//	/opt/<dir>/echo      busybox copies (signedFile)
//	/etc/*.conf          dpkg conffiles, listed in
//	                     /var/lib/dpkg/info/imaboot-test.conffiles
//
// imaboot-relabel labels the whole staging directory (--root = that
// directory, so it reads the dpkg list there); the test then makes its
// offline changes (content, mode, security.evm) before mkfs.ext4 -d copies
// the tree, labels included, into the image.

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
	"github.com/imaboot/imaboot/keyload"
	"golang.org/x/sys/unix"
)

// relabelTools are the host labeler and the guest's xattr reader.
type relabelTools struct {
	relabel, xattrdump string
}

func buildRelabelTools(t *testing.T) relabelTools {
	t.Helper()
	dir := t.TempDir()
	repo, err := fixture.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := fixture.Build(repo, dir, "imaboot-relabel")
	if err != nil {
		t.Fatal(err)
	}
	x, err := fixture.BuildXattrDump(dir)
	if err != nil {
		t.Fatal(err)
	}
	return relabelTools{relabel: b["imaboot-relabel"], xattrdump: x}
}

// relabeledRoot describes a root labeled by imaboot-relabel.
type relabeledRoot struct {
	tools relabelTools
	key   signingKey
	// flags are added to "--sign --key --cert --root DIR".
	flags []string
	// execs are /opt/<dir>/echo; tamper changes a byte after labeling.
	execs []signedFile
	// conffiles: root path -> content, listed as dpkg conffiles.
	conffiles map[string]string
	// bins: root path -> host file, copied (mode 0755) before labeling.
	bins map[string]string
	// script is /test.sh after its "#!/bin/sh" line.
	script string
	// offline changes the labeled tree before the image is made.
	offline func(t testing.TB, dir string)
}

func (r relabeledRoot) build(t testing.TB) fixture.Root {
	files := map[string]string{
		// No rate limit on the kernel's audit lines: the test prints them.
		"/test.sh":    "#!/bin/sh\necho 0 > /proc/sys/kernel/printk_ratelimit\n" + r.script,
		"/etc/passwd": "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
		"/etc/group":  "root:x:0:\nnogroup:x:65534:\n",
	}
	var list strings.Builder
	for p, content := range r.conffiles {
		files[p] = content
		list.WriteString(p + "\n")
	}
	files["/var/lib/dpkg/info/imaboot-test.conffiles"] = list.String()
	return fixture.Root{
		Files: files,
		Prepare: func(dir string) error {
			if err := os.Chmod(filepath.Join(dir, "test.sh"), 0o755); err != nil {
				return err
			}
			copyFile(t, r.tools.xattrdump, filepath.Join(dir, "bin/xattrdump"), 0o755)
			for p, src := range r.bins {
				copyFile(t, src, filepath.Join(dir, p), 0o755)
			}
			for _, f := range r.execs {
				copyFile(t, filepath.Join(dir, "bin/busybox"), filepath.Join(dir, "opt", f.dir, "echo"), 0o755)
			}
			args := append([]string{"--sign", "--key", r.key.Key, "--cert", r.key.CertPEM, "--root", dir, "--progress", "never"}, r.flags...)
			out, err := exec.Command(r.tools.relabel, append(args, dir)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("imaboot-relabel %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			t.Logf("imaboot-relabel --sign %s: %s", strings.Join(r.flags, " "), strings.TrimSpace(string(out)))
			// Before the offline changes, the tool's own check agrees.
			if out, err := exec.Command(r.tools.relabel, "verify", "--cert", r.key.CertPEM, "--progress", "never", dir).CombinedOutput(); err != nil {
				return fmt.Errorf("imaboot-relabel verify after labeling: %v\n%s", err, out)
			}
			for _, f := range r.execs {
				if f.tamper {
					relabelTamper(t, filepath.Join(dir, "opt", f.dir, "echo"))
				}
			}
			if r.offline != nil {
				r.offline(t, dir)
			}
			return nil
		},
	}
}

// relabelTamper changes a file's last byte in place: busybox still runs, its
// digest changes.
func relabelTamper(t testing.TB, p string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, st.Size()-1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{b[0] ^ 0x5a}, st.Size()-1); err != nil {
		t.Fatal(err)
	}
}

// relabelMachine is one root image and initramfs that can be booted more
// than once (a reboot sees what the previous boot wrote to the disk).
type relabelMachine struct {
	k           fixture.Kernel
	img, initrd string
}

func newRelabelMachine(t *testing.T, k fixture.Kernel, root fixture.Root, config string, initramfs map[string]string) relabelMachine {
	t.Helper()
	dir := t.TempDir()
	root.Init = fixture.MarkerInit
	root.UUID, root.Label = rootUUID, rootLabel
	m := relabelMachine{k: k, img: filepath.Join(dir, "root.img")}
	if err := root.Build(filepath.Join(dir, "root"), m.img); err != nil {
		t.Fatal(err)
	}
	return m.withInitramfs(t, config, initramfs)
}

// withInitramfs is the same machine (the same root image) with another
// initramfs: the configuration and files given.
func (r relabelMachine) withInitramfs(t *testing.T, config string, initramfs map[string]string) relabelMachine {
	t.Helper()
	r.initrd = filepath.Join(t.TempDir(), "initrd.img")
	spec := fixture.Initramfs{Modules: []string{"virtio_pci", "virtio_blk"}, Config: config, Files: initramfs}
	if err := spec.Build(bins, r.k, r.initrd); err != nil {
		t.Fatal(err)
	}
	return r
}

// boot starts the machine; it is stopped at the end of the test.
func (r relabelMachine) boot(t *testing.T, cmdline string) *vm.Machine {
	t.Helper()
	return vm.StartT(t, fmt.Sprintf("%q, %s", cmdline, r.k.Release), vm.Options{Kernel: r.k.Vmlinuz, Initrd: r.initrd, Disks: []string{r.img}, Append: "quiet " + cmdline})
}

// relabelReadFile defines readfile: it prints "READ <path> rc=<cat's exit
// status> <output>" (files here are one line).
const relabelReadFile = `readfile() { c=$(cat "$1" 2>&1); echo "READ $1 rc=$? $c"; }
`

// relabelKernelCauses prints the kernel's integrity audit records (type 1800, with
// their cause=) so a failure shows why the kernel refused.
const relabelKernelCauses = `busybox dmesg | grep 'cause=' | sed 's/^/KMSG /'
`

// relabelHashLabel is the security.ima the kernel (and imaboot-relabel) writes
// for a sha256 hash: type 0x04, algorithm 4 (sha256), digest.
func relabelHashLabel(content string) string {
	d := sha256.Sum256([]byte(content))
	return "0404" + hex.EncodeToString(d[:])
}

// relabelXattr finds "<prefix>XATTR <path> <name>=<hex>" on the console.
func relabelXattr(t *testing.T, con, prefix, path, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(prefix+"XATTR "+path+" "+name+"=") + `(\S+)`)
	sm := re.FindStringSubmatch(con)
	if sm == nil {
		t.Errorf("no %s of %s printed (%q)", name, path, prefix)
		return ""
	}
	return sm[1]
}

func relabelExpectLine(t *testing.T, con, line string) {
	t.Helper()
	if !strings.Contains(con, "\n"+line+"\n") {
		t.Errorf("console lacks %q", line)
	}
}

// The contents of the mutable files.
const (
	relabelMutableV1      = "mutable v1\n"
	relabelMutableV2      = "mutable v2, written in the guest\n"
	relabelTamperedOnHost = "changed on the host after labeling\n"
)

// relabelCertFiles puts the certificate and a policy into the initramfs.
func relabelCertFiles(t *testing.T, key signingKey, policy string, evm bool) map[string]string {
	p := filepath.Join(t.TempDir(), "ima-policy")
	if err := os.WriteFile(p, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"/etc/keys/ima/rsa.der": key.CertDER, "/etc/imaboot/ima-policy": p}
	if evm {
		files["/etc/keys/evm/rsa.der"] = key.CertDER
	}
	return files
}

// relabelHashPolicy is basicPolicy plus appraisal of every file root owns
// when it is opened: signatures or hashes, whichever the file carries.
const relabelHashPolicy = basicPolicy + "appraise func=FILE_CHECK fowner=0\n"

// TestRelabelSignedRoot: a root labeled on the host by imaboot-relabel
// --sign (RSA-2048, sha256) boots with the IMA certificate and an appraisal
// policy from the initramfs. Signed executables run as root and as an
// unprivileged user; one modified after labeling is refused. dpkg conffiles
// got hashes: one is readable under hash appraisal, one modified on the
// host is refused; the readable one is rewritten in the running system
// (root mounted rw), the kernel re-hashes it (security.ima becomes the
// sha256 of the new content) and after a reboot it still reads.
func TestRelabelSignedRoot(t *testing.T) {
	tools := buildRelabelTools(t)
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		key := newSigningKey(t, t.TempDir(), "rsa", "rsa")
		execs := []signedFile{{dir: "signed"}, {dir: "modified", tamper: true}}
		script := relabelReadFile + `X=/bin/xattrdump
if ! grep -q relabeltest=reboot /proc/cmdline; then
` + strings.TrimPrefix(execChecks(execs), "#!/bin/sh\n") + `
$X -n security.ima /opt/signed/echo /etc/mutable.conf | sed 's/^/BEFORE /'
readfile /etc/mutable.conf
readfile /etc/tampered.conf
echo "` + strings.TrimSpace(relabelMutableV2) + `" > /etc/mutable.conf; echo "WRITE rc=$?"
$X -n security.ima /etc/mutable.conf | sed 's/^/AFTER /'
readfile /etc/mutable.conf
busybox sync; echo "SYNCED"
else
$X -n security.ima /etc/mutable.conf | sed 's/^/REBOOT /'
readfile /etc/mutable.conf
readfile /etc/tampered.conf
fi
` + relabelKernelCauses
		root := relabeledRoot{
			tools: tools, key: key, execs: execs, script: script,
			conffiles: map[string]string{"/etc/mutable.conf": relabelMutableV1, "/etc/tampered.conf": relabelMutableV1},
			offline: func(t testing.TB, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "etc/tampered.conf"), []byte(relabelTamperedOnHost), 0o644); err != nil {
					t.Fatal(err)
				}
			},
		}.build(t)
		mach := newRelabelMachine(t, k, root, "", relabelCertFiles(t, key, relabelHashPolicy, false))

		m := mach.boot(t, "root=/dev/vda rw")
		expect(t, m, `ROOTINIT-DONE`)
		if err := m.Wait(bootWait); err != nil {
			t.Fatal(err)
		}
		con := m.Console()
		expect(t, m, `imaboot: ima-policy: IMA policy loaded, 10 rules`)
		relabelExpectFirstRuns(t, con, execs)
		if sig := relabelXattr(t, con, "BEFORE ", "/opt/signed/echo", "security.ima"); !strings.HasPrefix(sig, "030204") {
			t.Errorf("/opt/signed/echo: security.ima %s is not a sha256 signature v2 (03 02 04 ...)", sig)
		}
		if got, want := relabelXattr(t, con, "BEFORE ", "/etc/mutable.conf", "security.ima"), relabelHashLabel(relabelMutableV1); got != want {
			t.Errorf("conffile labeled %s, want the sha256 hash %s", got, want)
		}
		relabelExpectLine(t, con, "READ /etc/mutable.conf rc=0 "+strings.TrimSpace(relabelMutableV1))
		relabelExpectLine(t, con, "READ /etc/tampered.conf rc=1 cat: can't open '/etc/tampered.conf': Permission denied")
		relabelExpectLine(t, con, "WRITE rc=0")
		rehashed := relabelXattr(t, con, "AFTER ", "/etc/mutable.conf", "security.ima")
		if want := relabelHashLabel(relabelMutableV2); rehashed != want {
			t.Errorf("after the write in the guest security.ima is %s, want the kernel's hash of the new content %s", rehashed, want)
		}
		relabelExpectLine(t, con, "READ /etc/mutable.conf rc=0 "+strings.TrimSpace(relabelMutableV2))
		relabelExpectLine(t, con, "SYNCED")
		relabelExpectCause(t, con, "invalid-signature", "/opt/modified/echo")
		relabelExpectCause(t, con, "invalid-hash", "/etc/tampered.conf")
		t.Logf("kernel causes, first boot:\n%s", relabelKmsg(con))

		m2 := mach.boot(t, "root=/dev/vda relabeltest=reboot")
		expect(t, m2, `ROOTINIT-DONE`)
		con2 := m2.Console()
		if got := relabelXattr(t, con2, "REBOOT ", "/etc/mutable.conf", "security.ima"); got != rehashed {
			t.Errorf("after the reboot security.ima is %s, want %s", got, rehashed)
		}
		relabelExpectLine(t, con2, "READ /etc/mutable.conf rc=0 "+strings.TrimSpace(relabelMutableV2))
		relabelExpectLine(t, con2, "READ /etc/tampered.conf rc=1 cat: can't open '/etc/tampered.conf': Permission denied")
		relabelExpectCause(t, con2, "invalid-hash", "/etc/tampered.conf")
		t.Logf("kernel causes, reboot:\n%s", relabelKmsg(con2))
	})
}

// TestRelabelCertificateWithoutSKI: a certificate without a
// SubjectKeyIdentifier is one the kernel can find only by the tail of its raw
// serial and issuer. imaboot-relabel --sign labels the root with it and
// imaboot-relabel verify accepts the labels; imaboot-init loads it and reports
// the key id its labels carry; the kernel runs the signed executables and
// refuses an unsigned copy, and a copy evmctl signed under its default key id
// (the SHA-1 of the public key, which the kernel does not know this key by).
func TestRelabelCertificateWithoutSKI(t *testing.T) {
	tools := buildRelabelTools(t)
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		key, err := fixture.NewSigningKeyWithoutSKI(t.TempDir(), "noski")
		if err != nil {
			t.Fatal(err)
		}
		text, err := exec.Command("openssl", "x509", "-in", key.CertPEM, "-noout", "-text").Output()
		if err != nil || !strings.Contains(string(text), "X509v3 extensions") || strings.Contains(string(text), "Subject Key Identifier") {
			t.Fatalf("openssl x509 -text (%v): want extensions but no Subject Key Identifier:\n%s", err, text)
		}
		certs, err := keyload.ReadCertificateFile(key.CertDER)
		if err != nil {
			t.Fatal(err)
		}
		id := certs[0].KeyID
		if certs[0].KeyIDSource != "issuer+serial" || certs[0].KeyHashID == id {
			t.Fatalf("keyload: key id %s from %s (key hash %s): want issuer+serial, unlike the hash", id, certs[0].KeyIDSource, certs[0].KeyHashID)
		}
		execs := []signedFile{{dir: "signed"}, {dir: "unsigned"}, {dir: "evmctlid"}}
		script := strings.TrimPrefix(execChecks(execs), "#!/bin/sh\n") +
			`/bin/xattrdump -n security.ima /opt/signed/echo /opt/evmctlid/echo | sed 's/^/LABEL /'
` + relabelKernelCauses
		root := relabeledRoot{
			tools: tools, key: key, execs: execs[:1], script: script,
			// Copies made after labeling: new files, without the labels.
			offline: func(t testing.TB, dir string) {
				for _, d := range []string{"unsigned", "evmctlid"} {
					copyFile(t, filepath.Join(dir, "bin/busybox"), filepath.Join(dir, "opt", d, "echo"), 0o755)
				}
				evmSign(t, key, "sha256", filepath.Join(dir, "opt/evmctlid/echo"))
			},
		}.build(t)
		mach := newRelabelMachine(t, k, root, "", relabelCertFiles(t, key, basicPolicy, false))
		m := mach.boot(t, "root=/dev/vda")
		expect(t, m, `key id `+id+` \(RSA\)`)
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		relabelExpectFirstRuns(t, con, execs)
		if sig := relabelXattr(t, con, "LABEL ", "/opt/signed/echo", "security.ima"); !strings.HasPrefix(sig, "030204"+id) {
			t.Errorf("/opt/signed/echo: security.ima %s, want a sha256 signature v2 under key id %s (030204%s...)", sig, id, id)
		}
		if sig := relabelXattr(t, con, "LABEL ", "/opt/evmctlid/echo", "security.ima"); !strings.HasPrefix(sig, "030204"+certs[0].KeyHashID) {
			t.Errorf("/opt/evmctlid/echo: security.ima %s, want evmctl's signature under key id %s", sig, certs[0].KeyHashID)
		}
		relabelExpectCause(t, con, "IMA-signature-required", "/opt/unsigned/echo")
		relabelExpectCause(t, con, "invalid-signature", "/opt/evmctlid/echo")
		t.Logf("kernel causes:\n%s", relabelKmsg(con))
	})
}

// relabelExpectFirstRuns checks that the first of execs ran and was measured
// and that the kernel refused every other one.
func relabelExpectFirstRuns(t *testing.T, con string, execs []signedFile) {
	t.Helper()
	expectExec(t, con, execs[0], true)
	expectMeasured(t, con, execs[0])
	for _, f := range execs[1:] {
		expectExec(t, con, f, false)
	}
}

// relabelExpectCause checks that the kernel logged an appraisal failure of
// path with this cause (an audit record of type 1800).
func relabelExpectCause(t *testing.T, con, cause, path string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^KMSG .*type=1800 .*op=appraise_data cause=` + regexp.QuoteMeta(cause) + ` .*name="` + regexp.QuoteMeta(path) + `"`)
	if !re.MatchString(con) {
		t.Errorf("the kernel logged no appraisal failure cause=%s for %s", cause, path)
	}
}

// relabelKmsg lists the KMSG lines the guest printed.
func relabelKmsg(con string) string { return relabelPrefixed(con, "KMSG ") }

// relabelPrefixed lists the console lines that start with prefix.
func relabelPrefixed(con, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(con, "\n") {
		if strings.HasPrefix(l, prefix) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestRelabelEVMPortable: with the certificate also in /etc/keys/evm, the
// agent enables EVM with the X509 bit. A root labeled by imaboot-relabel
// --sign --evm portable boots and its executables run; an executable whose
// mode changed after labeling (offline, in the staging tree) is refused,
// and so is one whose portable EVM signature was removed.
func TestRelabelEVMPortable(t *testing.T) {
	tools := buildRelabelTools(t)
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		key := newSigningKey(t, t.TempDir(), "rsa", "rsa")
		execs := []signedFile{{dir: "signed"}, {dir: "chmodded"}, {dir: "noevm"}}
		script := strings.TrimPrefix(execChecks(execs), "#!/bin/sh\n") +
			`/bin/xattrdump -n security.ima -n security.evm /opt/signed/echo /opt/chmodded/echo | sed 's/^/LABEL /'
echo "EVM-STATE $(cat /sys/kernel/security/evm)"
` + relabelKernelCauses
		root := relabeledRoot{
			tools: tools, key: key, execs: execs, script: script, flags: []string{"--evm", "portable"},
			offline: func(t testing.TB, dir string) {
				if err := os.Chmod(filepath.Join(dir, "opt/chmodded/echo"), 0o775); err != nil {
					t.Fatal(err)
				}
				if err := unix.Removexattr(filepath.Join(dir, "opt/noevm/echo"), "security.evm"); err != nil {
					t.Fatal(err)
				}
			},
		}.build(t)
		// EVM_BITS=0: the agent fails on an unset EVM_BITS (ParseEVMBits("")).
		mach := newRelabelMachine(t, k, root, "EVM_BITS=0\n", relabelCertFiles(t, key, basicPolicy, true))
		m := mach.boot(t, "root=/dev/vda")
		expect(t, m, `imaboot: enable-evm: EVM enabled: wrote 0x80000002 \(X509\|setup-complete\)`)
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		relabelExpectFirstRuns(t, con, execs)
		for _, p := range []string{"/opt/signed/echo", "/opt/chmodded/echo"} {
			if evm := relabelXattr(t, con, "LABEL ", p, "security.evm"); !strings.HasPrefix(evm, "050204") {
				t.Errorf("%s: security.evm %s is not a portable sha256 signature (05 02 04 ...)", p, evm)
			}
		}
		relabelExpectLine(t, con, "EVM-STATE 2")
		st := status(t, m)
		for _, name := range []string{"ima-certificates", "evm-certificates", "enable-evm", "ima-policy"} {
			if !stepDone(st, name) {
				t.Errorf("step %s not done", name)
			}
		}
		// A portable signature that no longer verifies is "immutable": the
		// kernel says invalid-fail-immutable, not invalid-HMAC.
		relabelExpectCause(t, con, "invalid-fail-immutable", "/opt/chmodded/echo")
		relabelExpectCause(t, con, "missing-HMAC", "/opt/noevm/echo")
		t.Logf("kernel causes:\n%s", relabelKmsg(con))
	})
}

// relabelEVMKey makes an EVM HMAC key for the guest on the host: a random
// 32-byte master key (the agent adds it as user key "kmk") and the kernel's
// encrypted blob of a new 64-byte evm-key under it, made in a throw-away
// session keyring with keyctl.
func relabelEVMKey(t *testing.T) (master, blob string) {
	t.Helper()
	dir := t.TempDir()
	master, blob = filepath.Join(dir, "kmk"), filepath.Join(dir, "evm-key.blob")
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(master, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("keyctl", "session", "-", "sh", "-ec",
		`keyctl padd user kmk @s < "$1" >/dev/null; keyctl pipe "$(keyctl add encrypted evm-key "new default user:kmk 64" @s)"`, "sh", master)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "default user:kmk 64 ") {
		t.Fatalf("make the EVM key blob with keyctl: %v %q\n%s", err, out, stderr.String())
	}
	if err := os.WriteFile(blob, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return master, blob
}

// relabelNoBPFLSM is Debian's CONFIG_LSM without bpf. On Debian's 6.1
// (6.1.0-56), once EVM's HMAC key is on, creating any file on tmpfs or ext4
// oopses in evm_inode_init_security (strlen(NULL) from
// evm_protected_xattr_common): the BPF LSM's inode_init_security returns
// 0 without naming an xattr. Seen with the agent's first file write after
// enable-evm; 6.12 is not affected.
const relabelNoBPFLSM = "lsm=landlock,lockdown,yama,loadpin,safesetid,integrity,apparmor"

// TestRelabelKernelFix: the first-boot path of imaboot-relabel --kernel-fix.
// A root signed on the host (no EVM labels) boots with the EVM HMAC key and
// "ima_appraise=fix evm=fix": executing its signed files added no HMAC
// (kernels 6.1 and 6.12 do not add one to a file whose signature is valid);
// imaboot-relabel --kernel-fix in the guest makes the kernel write HMACs on
// every file it walks, signed ones included, and re-hashes nothing signed.
// The next boot enforces (HMAC key, no fix mode): the walked files run and
// read; a signed file the walk excluded is refused (missing-HMAC).
func TestRelabelKernelFix(t *testing.T) {
	tools := buildRelabelTools(t)
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		key := newSigningKey(t, t.TempDir(), "rsa", "rsa")
		execs := []signedFile{{dir: "signed"}, {dir: "nohmac"}}
		dump := `/bin/xattrdump -n security.ima -n security.evm /bin/busybox /opt/signed/echo /opt/nohmac/echo /etc/mutable.conf`
		script := relabelReadFile + `if grep -q relabeltest=fix /proc/cmdline; then
` + dump + ` | sed 's/^/BEFORE /'
out=$(/bin/imaboot-relabel --kernel-fix --progress never --exclude /opt/nohmac / 2>&1); echo "RELABEL-RC=$?"
echo "$out" | sed 's/^/RELABEL: /'
` + dump + ` | sed 's/^/AFTER /'
busybox sync; echo "SYNCED"
else
` + strings.TrimPrefix(execChecks(execs), "#!/bin/sh\n") + `readfile /etc/mutable.conf
fi
echo "EVM-STATE $(cat /sys/kernel/security/evm)"
` + relabelKernelCauses
		root := relabeledRoot{
			tools: tools, key: key, execs: execs, script: script,
			bins:      map[string]string{"bin/imaboot-relabel": tools.relabel},
			conffiles: map[string]string{"/etc/mutable.conf": relabelMutableV1},
		}.build(t)
		master, blob := relabelEVMKey(t)
		files := relabelCertFiles(t, key, relabelHashPolicy, false)
		files["/etc/keys/kmk"], files["/etc/keys/evm-key.blob"] = master, blob
		// EVM_BITS=0: the agent fails on an unset EVM_BITS (ParseEVMBits("")).
		config := "MASTER_KEY_TYPE=user\nMASTER_KEY=/etc/keys/kmk\nEVM_KEY=/etc/keys/evm-key.blob\nEVM_BITS=0\n"
		mach := newRelabelMachine(t, k, root, config, files)

		lsm := ""
		if k.Short() == "6.1" {
			lsm = " " + relabelNoBPFLSM
		}
		// A labeling boot is a break-glass boot: enforce refuses
		// ima_appraise=fix otherwise.
		m := mach.boot(t, "root=/dev/vda rw ima_appraise=fix evm=fix imaboot.break_glass relabeltest=fix"+lsm)
		expect(t, m, `imaboot: enable-evm: EVM enabled: wrote 0x80000001 \(HMAC\|setup-complete\)`)
		expect(t, m, `ROOTINIT-DONE`)
		if err := m.Wait(bootWait); err != nil {
			t.Fatal(err)
		}
		con := m.Console()
		for _, p := range []string{"/bin/busybox", "/opt/signed/echo", "/opt/nohmac/echo"} {
			if !strings.HasPrefix(relabelXattr(t, con, "BEFORE ", p, "security.evm"), "none") {
				t.Errorf("%s had security.evm before imaboot-relabel --kernel-fix", p)
			}
		}
		relabelExpectLine(t, con, "RELABEL-RC=0")
		t.Logf("imaboot-relabel --kernel-fix in the guest:\n%s", relabelPrefixed(con, "RELABEL: "))
		// 10 files walked (the 11 labeled on the host but /opt/nohmac/echo);
		// the 9 signed ones had their signature set again.
		if !regexp.MustCompile(`\nRELABEL: 10 files .* 9 labeled `).MatchString(con) {
			t.Error("imaboot-relabel --kernel-fix did not report 10 files walked and 9 signatures set again")
		}
		for _, p := range []string{"/bin/busybox", "/opt/signed/echo", "/etc/mutable.conf"} {
			// EVM HMAC: type 0x02 and an HMAC-SHA1.
			if evm := relabelXattr(t, con, "AFTER ", p, "security.evm"); !strings.HasPrefix(evm, "02") || len(evm) != 42 {
				t.Errorf("%s: security.evm %s after --kernel-fix, want an HMAC (02 + 20 bytes)", p, evm)
			}
		}
		for _, p := range []string{"/bin/busybox", "/opt/signed/echo"} {
			if before, after := relabelXattr(t, con, "BEFORE ", p, "security.ima"), relabelXattr(t, con, "AFTER ", p, "security.ima"); before != after || !strings.HasPrefix(after, "0302") {
				t.Errorf("%s: security.ima %s became %s, want the same signature", p, before, after)
			}
		}
		if got, want := relabelXattr(t, con, "AFTER ", "/etc/mutable.conf", "security.ima"), relabelHashLabel(relabelMutableV1); got != want {
			t.Errorf("/etc/mutable.conf: security.ima %s, want %s", got, want)
		}
		if !strings.HasPrefix(relabelXattr(t, con, "AFTER ", "/opt/nohmac/echo", "security.evm"), "none") {
			t.Error("/opt/nohmac/echo, excluded from the walk, got security.evm")
		}
		relabelExpectLine(t, con, "SYNCED")

		m2 := mach.boot(t, "root=/dev/vda"+lsm)
		expect(t, m2, `ROOTINIT-DONE`)
		con2 := m2.Console()
		expectExec(t, con2, execs[0], true)
		expectExec(t, con2, execs[1], false)
		relabelExpectLine(t, con2, "READ /etc/mutable.conf rc=0 "+strings.TrimSpace(relabelMutableV1))
		relabelExpectLine(t, con2, "EVM-STATE 1")
		relabelExpectCause(t, con2, "missing-HMAC", "/opt/nohmac/echo")
		t.Logf("kernel causes, enforcing boot:\n%s", relabelKmsg(con2))
	})
}
