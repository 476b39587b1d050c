package integration

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/relabel"
)

// labelGID is the group imaboot-label in TestDpkgNewFileEVM's root.
const labelGID = "4242"

// dpkgEVMPolicy: signed executions, and files of group imaboot-label
// appraised when opened, which makes the kernel count a file created with
// that group as new (the rule imaboot-dpkg-hooks enable prints).
const dpkgEVMPolicy = fixture.AppraisePolicy + "appraise func=FILE_CHECK fgroup=" + labelGID + "\n"

// TestDpkgNewFileEVM: the kernel side of labeling a file dpkg has just
// created, on a machine whose EVM HMAC key is loaded (docs/debian-updates.md,
// "With an EVM HMAC key"), on both kernels. The root carries portable EVM
// signatures and a dpkg database with one unpacked package whose manifest
// signs /opt/fresh/echo; the guest creates that file (cp, as dpkg leaves a
// file: closed, no xattr). Running it is refused, and so is writing its
// signature in place (imaboot-relabel --from-dpkg: EPERM,
// cause=no_xattrs). imaboot-relabel --from-dpkg --pending (the code of the
// dpkg-deb shim) replaces it by a copy made by mknod and labeled while open:
// on 6.12 that is enough; on 6.1 only once the group imaboot-label exists
// (the policy's FILE_CHECK fgroup rule matches the copy). The kernel adds the
// HMAC, the program runs, an unsigned copy is still refused.
func TestDpkgNewFileEVM(t *testing.T) {
	tools := buildRelabelTools(t)
	bb, err := os.ReadFile(busyboxPath())
	if err != nil {
		t.Fatal(err)
	}
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		key := newSigningKey(t, t.TempDir(), "rsa", "rsa")
		s, err := relabel.LoadSigner(key.Key, key.CertDER)
		if err != nil {
			t.Fatal(err)
		}
		d := sha256.Sum256(bb)
		label, err := s.SignLabel(relabel.TypeSignature, relabel.AlgoSHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		m := &imasigs.Manifest{Entries: []imasigs.Entry{{Path: "/opt/fresh/echo", Algo: relabel.AlgoSHA256, Digest: d[:], Label: label}}}
		manifest, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		script := `mkdir -p /opt/fresh
cp /bin/busybox /opt/fresh/echo
/opt/fresh/echo RAN-before; echo "RC-before=$?"
/bin/imaboot-relabel --from-dpkg > /tmp/out 2>&1; echo "INPLACE-RC=$?"; sed 's/^/INPLACE: /' /tmp/out
/bin/imaboot-relabel --from-dpkg --pending > /tmp/out 2>&1; echo "NOGROUP-RC=$?"; sed 's/^/NOGROUP: /' /tmp/out
echo "imaboot-label:x:` + labelGID + `:" >> /etc/group
/bin/imaboot-relabel --from-dpkg --pending > /tmp/out 2>&1; echo "GROUP-RC=$?"; sed 's/^/GROUP: /' /tmp/out
/opt/fresh/echo RAN-after; echo "RC-after=$?"
cp /opt/fresh/echo /opt/fresh/copy; /opt/fresh/copy RAN-copy; echo "RC-copy=$?"
/bin/xattrdump -n security.ima -n security.evm /opt/fresh/echo | sed 's/^/AFTER /'
stat -c 'OWNER %u:%g %a' /opt/fresh/echo
ls -a /opt/fresh | grep -c imaboot- | sed 's/^/LEFTOVER /'
echo "EVM-STATE $(cat /sys/kernel/security/evm)"
` + relabelKernelCauses
		root := relabeledRoot{
			tools: tools, key: key, script: script, flags: []string{"--evm", "portable"},
			bins: map[string]string{"bin/imaboot-relabel": tools.relabel},
		}.build(t)
		prepare := root.Prepare
		root.Prepare = func(dir string) error {
			for p, c := range map[string]string{
				"var/lib/dpkg/status":             "Package: fresh\nStatus: install ok unpacked\nArchitecture: all\n\n",
				"var/lib/dpkg/info/fresh.list":    "/opt\n/opt/fresh\n/opt/fresh/echo\n",
				"var/lib/dpkg/info/fresh.imasigs": string(manifest),
			} {
				if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
					return err
				}
			}
			return prepare(dir)
		}
		master, blob := relabelEVMKey(t)
		files := relabelCertFiles(t, key, dpkgEVMPolicy, true)
		files["/etc/keys/kmk"], files["/etc/keys/evm-key.blob"] = master, blob
		config := "MASTER_KEY_TYPE=user\nMASTER_KEY=/etc/keys/kmk\nEVM_KEY=/etc/keys/evm-key.blob\nEVM_BITS=0\n"
		mach := newRelabelMachine(t, k, root, config, files)
		lsm := ""
		if k.Short() == "6.1" {
			lsm = " " + relabelNoBPFLSM
		}
		vm := mach.boot(t, "root=/dev/vda rw"+lsm)
		expect(t, vm, `imaboot: enable-evm: EVM enabled: wrote 0x80000003`)
		expect(t, vm, `ROOTINIT-DONE`)
		con := vm.Console()
		relabelExpectLine(t, con, "RC-before=126")
		// In place: refused by EVM on both kernels.
		relabelExpectLine(t, con, "INPLACE-RC=1")
		if !strings.Contains(con, "INPLACE: mismatch fresh: /opt/fresh/echo: set security.ima: operation not permitted") {
			t.Error("the in-place label was not refused with EPERM")
		}
		if !regexp.MustCompile(`(?m)^KMSG .*op=update_metadata cause=no_xattrs .*name="echo"`).MatchString(con) {
			t.Error("the kernel logged no update_metadata cause=no_xattrs for the new file")
		}
		relabelExpectCause(t, con, "IMA-signature-required", "/opt/fresh/echo")
		// A copy made by mknod: enough from 6.9 on; 6.1 wants the group
		// and the FILE_CHECK rule.
		if k.Short() == "6.1" {
			relabelExpectLine(t, con, "NOGROUP-RC=1")
			if !strings.Contains(con, "on the copy of /opt/fresh/echo: operation not permitted") || !strings.Contains(con, "group imaboot-label exists") {
				t.Error("without the group, the labeler does not report the kernel's EPERM and the way out")
			}
		} else {
			relabelExpectLine(t, con, "NOGROUP-RC=0")
		}
		relabelExpectLine(t, con, "GROUP-RC=0")
		relabelExpectLine(t, con, "RC-after=0")
		relabelExpectLine(t, con, "RC-copy=126")
		if evm := relabelXattr(t, con, "AFTER ", "/opt/fresh/echo", "security.evm"); !strings.HasPrefix(evm, "02") {
			t.Errorf("the labeled copy's security.evm is %s, want the kernel's HMAC (02 ...)", evm)
		}
		relabelExpectLine(t, con, "OWNER 0:0 755")
		relabelExpectLine(t, con, "LEFTOVER 0")
		t.Logf("labeler and kernel:\n%s%s%s%s", relabelPrefixed(con, "INPLACE: "), relabelPrefixed(con, "NOGROUP: "), relabelPrefixed(con, "GROUP: "), relabelKmsg(con))
	})
}

// busyboxPath is the busybox fixture.Root copies into every root.
func busyboxPath() string {
	if p, err := exec.LookPath("busybox"); err == nil {
		return p
	}
	return "/bin/busybox"
}
