// Package secureboot boots Debian's signed 6.1 and 6.12 cloud kernels under
// UEFI Secure Boot (OVMF with Microsoft's keys, Debian's signed shim,
// MokManager and grub: integration/uefi) with imaboot's initramfs, and
// checks the trust chain TRUST=ca builds on: the owner's CA, enrolled as a
// Machine Owner Key, is the only signer whose certificates enter _ima.
//
// The owner's CA is enrolled once per test run, the way an owner does it:
// a boot whose root runs mokutil --import (the step imaboot-ca prints,
// with the password from a hash file), then a boot in which MokManager is
// answered over the serial console. The variable store that leaves is
// copied for every later boot that needs the CA; the others start from
// OVMF's store as shipped.
//
// Disk layout: two virtio disks, the ext4 root (label imaroot, found by
// root=LABEL=imaroot: QEMU puts the ESP's device first, so the root is
// vdb) made by fixture.Root (busybox, fixture.MarkerInit as /sbin/init,
// /test.sh, the programs the test runs, signed with the release key unless
// a test says otherwise), and the EFI system partition (uefi.ESP: shim as
// \EFI\BOOT\BOOTX64.EFI, mmx64.efi and grubx64.efi beside it,
// \EFI\debian\grub.cfg, \vmlinuz, \initrd.img), first in the firmware's
// boot order.
package secureboot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/uefi"
)

var (
	kernels  []fixture.Kernel
	bins     fixture.Binaries
	firmware uefi.Firmware
	loaders  uefi.Loaders
	pki      owner
)

// owner is the owner's PKI, made with imaboot-ca, and the certificates the
// tests try to slip past it.
type owner struct {
	dir string
	// ca is the owner's CA; release and release2 are signed by it (release2
	// is never put in an initramfs: root tries to add it after the boot).
	ca, release, release2 fixture.SigningKey
	keyID                 string // the CA's key id (TRUST_CA)
	// selfSigned, otherCA (a certificate another CA signed) and
	// debianSigner (Debian's kernel signing certificate, signed by
	// "Debian Secure Boot CA", which shim puts in .machine) must be refused.
	selfSigned, otherCA fixture.SigningKey
	debianSigner        string // DER
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	repo, err := fixture.RepoRoot()
	if err == nil {
		kernels, err = fixture.Kernels(repo)
	}
	if err == nil {
		firmware, err = uefi.FindFirmware()
	}
	if err == nil {
		loaders, err = uefi.FindLoaders(repo)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "secureboot:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "imaboot-secureboot-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins, err = fixture.Build(repo, dir, "imaboot-init", "imaboot-mkinitramfs", "imaboot-ca")
	if err == nil {
		pki, err = makeOwner(filepath.Join(dir, "pki"), kernels[0].Vmlinuz)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "secureboot:", err)
		return 1
	}
	code := m.Run()
	if enrolled.dir != "" {
		os.RemoveAll(enrolled.dir)
	}
	return code
}

// makeOwner makes the owner's CA and release certificates with imaboot-ca,
// as an owner would, and the certificates that must be refused.
func makeOwner(dir, vmlinuz string) (owner, error) {
	o := owner{dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return o, err
	}
	pair := func(prefix string) fixture.SigningKey {
		p := filepath.Join(dir, prefix)
		return fixture.SigningKey{Key: p + ".key", CertPEM: p + ".pem", CertDER: p + ".der"}
	}
	o.ca, o.release, o.release2 = pair("owner-ca"), pair("release"), pair("release2")
	if err := fixture.Run(bins["imaboot-ca"], "new", "--subject", "imaboot test owner CA", "--bits", "2048", "-o", filepath.Join(dir, "owner-ca")); err != nil {
		return o, err
	}
	for _, r := range []struct {
		name, subject string
	}{{"release", "imaboot test release"}, {"release2", "imaboot test release 2"}} {
		if err := fixture.Run(bins["imaboot-ca"], "issue", "--ca", o.ca.CertPEM, "--ca-key", o.ca.Key, "--subject", r.subject, "-o", filepath.Join(dir, r.name)); err != nil {
			return o, err
		}
	}
	out, err := exec.Command("openssl", "x509", "-in", o.ca.CertPEM, "-noout", "-ext", "subjectKeyIdentifier").Output()
	if err != nil {
		return o, fmt.Errorf("openssl x509 -ext subjectKeyIdentifier: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	o.keyID = strings.TrimSpace(lines[len(lines)-1]) // as openssl prints it: 24:40:E8:…, as an owner would paste it

	if o.selfSigned, err = fixture.NewSigningKey(dir, "self-signed", "rsa"); err != nil {
		return o, err
	}
	// Another CA, and a certificate it signed, with openssl.
	other := filepath.Join(dir, "other-ca")
	if err := fixture.Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=imaboot test other CA",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-keyout", other+".key", "-out", other+".pem"); err != nil {
		return o, err
	}
	o.otherCA = pair("by-other-ca")
	if err := fixture.Run("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=imaboot test signed by another CA", "-keyout", o.otherCA.Key, "-out", o.otherCA.Key+".csr"); err != nil {
		return o, err
	}
	ext := filepath.Join(dir, "leaf.ext")
	if err := os.WriteFile(ext, []byte("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"), 0o644); err != nil {
		return o, err
	}
	if err := fixture.Run("openssl", "x509", "-req", "-in", o.otherCA.Key+".csr", "-CA", other+".pem", "-CAkey", other+".key", "-CAcreateserial",
		"-days", "2", "-extfile", ext, "-outform", "DER", "-out", o.otherCA.CertDER); err != nil {
		return o, err
	}
	// Debian's kernel signing certificate, from the signature on the kernel
	// image: the only certificate at hand that Debian's CA really signed.
	sig := filepath.Join(dir, "vmlinuz.p7")
	if err := fixture.Run("sbattach", "--detach", sig, vmlinuz); err != nil {
		return o, err
	}
	pem := filepath.Join(dir, "debian-signer.pem")
	if err := fixture.Run("openssl", "pkcs7", "-inform", "DER", "-in", sig, "-print_certs", "-out", pem); err != nil {
		return o, err
	}
	o.debianSigner = filepath.Join(dir, "debian-signer.der")
	if err := fixture.Run("openssl", "x509", "-in", pem, "-outform", "DER", "-out", o.debianSigner); err != nil {
		return o, err
	}
	return o, nil
}
