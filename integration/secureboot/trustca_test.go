package secureboot

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/keyload"
)

// appraisePolicy: every execution outside the pseudo file systems must
// carry a signature.
const appraisePolicy = fixture.AppraisePolicy

// trustConfig is TRUST=ca naming the owner's CA, as imaboot-ca prints it.
func trustConfig() string {
	return "MODE=enforce\nHALT=poweroff\nTRUST=ca\nTRUST_CA=" + pki.keyID + "\n"
}

func policyFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "ima-policy")
	if err := os.WriteFile(p, []byte(appraisePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// signIMAEVM labels a file with evmctl (the real peer): an IMA signature
// and a portable EVM signature, both with key. With EVM's X509 mode on (an
// EVM certificate loaded), an executable needs both.
func signIMAEVM(key fixture.SigningKey) func(path string) error {
	return func(path string) error {
		return fixture.Run("evmctl", "sign", "--imasig", "--portable", "--hashalgo", "sha256", "--key", key.Key, path)
	}
}

// busyboxAs copies the root's busybox to path (named echo, so busybox runs
// its echo applet) and labels it with sign (nil: not at all).
func busyboxAs(dir, path string, sign func(string) error) error {
	if err := copyFile(filepath.Join(dir, "bin/busybox"), filepath.Join(dir, path)); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(dir, path), 0o755); err != nil {
		return err
	}
	if sign == nil {
		return nil
	}
	return sign(filepath.Join(dir, path))
}

// chainScript is /test.sh of the enrolled machine: what runs, what root
// can add to the keyrings after the switch, what the kernel and imaboot-ca
// say about the chain.
const chainScript = `#!/bin/sh
mount -t efivarfs efivarfs /sys/firmware/efi/efivars
for p in signed unsigned release2; do
	/opt/$p/echo RAN-$p; echo "RC-$p=$?"
done
echo "LOCKDOWN=$(cat /sys/kernel/security/lockdown)"
/bin/busybox dmesg | grep -o 'ignoring ima_appraise=[a-z]*' | sed 's/^/KERNEL-SAYS: /'
echo "EVM-STATE=$(cat /sys/kernel/security/evm)"
ima=$(keyctl search @u keyring _ima)
ca=$(keyctl search "$ima" keyring _ima_ca)
evm=$(keyctl search @u keyring _evm)
evmca=$(keyctl search "$evm" keyring _evm_ca)
echo "RINGS=$ima $ca $evm $evmca"
# Root tries every way in: a self-signed and a CA-signed certificate into
# _ima, the CA-signed one into _ima_ca, its permissions back, a keyring of
# its own linked in.
out=$(keyctl padd asymmetric "" "$ima" < /certs/self-signed.der 2>&1); echo "ADD-SELF-IMA=$? $out"
out=$(keyctl padd asymmetric "" "$ima" < /certs/release2.der 2>&1); echo "ADD-RELEASE2-IMA=$? $out"
out=$(keyctl padd asymmetric "" "$ca" < /certs/release2.der 2>&1); echo "ADD-RELEASE2-CA=$? $out"
out=$(keyctl padd asymmetric "" "$evm" < /certs/self-signed.der 2>&1); echo "ADD-SELF-EVM=$? $out"
out=$(keyctl padd asymmetric "" "$evmca" < /certs/release2.der 2>&1); echo "ADD-RELEASE2-EVMCA=$? $out"
out=$(keyctl setperm "$ca" 0x3f3f3f3f 2>&1); echo "SETPERM-CA=$? $out"
mine=$(keyctl newring mine @u)
out=$(keyctl link "$mine" "$ima" 2>&1); echo "LINK-IMA=$? $out"
out=$(keyctl link "$mine" "$ca" 2>&1); echo "LINK-CA=$? $out"
/opt/release2/echo RAN-release2-after; echo "RC-release2-after=$?"
# Debian's CA is a key the kernel trusts: the kernel's own restriction
# (builtin_and_secondary_trusted) takes what it signed; TRUST=ca does not.
deb=$(keyctl newring debian-test @u)
keyctl restrict_keyring "$deb" asymmetric builtin_and_secondary_trusted
out=$(keyctl padd asymmetric "" "$deb" < /certs/debian-signer.der 2>&1); echo "DEBIAN-SIGNER-KERNEL-RESTRICTION=$? $out"
out=$(keyctl padd asymmetric "" "$ca" < /certs/debian-signer.der 2>&1); echo "DEBIAN-SIGNER-CA=$? $out"
/bin/imaboot-ca check --key-id ` + "'%s'" + ` | sed 's/^/CHECK: /'
`

// TestSecureBootOwnerCA: on a machine whose owner's CA is enrolled as a
// Machine Owner Key, with TRUST=ca and ima_appraise=log on the command
// line, the release certificate the CA signed is the only one loaded, into
// _ima_ca and (as the EVM certificate) _evm_ca; a program it signed (IMA
// and portable EVM signatures) runs, an unsigned one and one signed by a
// second CA-signed key never loaded are refused (so ima_appraise=log
// changed nothing: the kernel ignores it under Secure Boot and says so);
// root cannot add a certificate to _ima, _ima_ca, _evm or _evm_ca
// afterwards, nor open them;
// Debian's CA, which the kernel trusts, signed a certificate that the
// kernel's own restriction takes and TRUST=ca refuses; imaboot-ca check
// finds the chain in place.
func TestSecureBootOwnerCA(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		vars := enrolledVars(t)
		m := boot(t, sbBoot{
			kernel: k,
			vars:   vars,
			// EVM_BITS=0: nothing beyond what loaded (the X509 bit).
			config:  trustConfig() + "EVM_BITS=0\n",
			cmdline: "ima_appraise=log",
			files: map[string]string{
				"/etc/keys/ima/release.der": pki.release.CertDER,
				"/etc/keys/evm/release.der": pki.release.CertDER,
				"/etc/imaboot/ima-policy":   policyFile(t),
			},
			root: fixture.Root{
				Files: map[string]string{"/test.sh": fmt.Sprintf(chainScript, pki.keyID)},
				Prepare: func(d string) error {
					sign := signIMAEVM(pki.release)
					if err := busyboxAs(d, "opt/signed/echo", sign); err != nil {
						return err
					}
					if err := busyboxAs(d, "opt/unsigned/echo", nil); err != nil {
						return err
					}
					if err := busyboxAs(d, "opt/release2/echo", signIMAEVM(pki.release2)); err != nil {
						return err
					}
					for _, p := range []string{"bin/busybox", "sbin/init", "test.sh"} {
						if err := sign(filepath.Join(d, p)); err != nil {
							return err
						}
					}
					for _, c := range [][2]string{
						{pki.selfSigned.CertDER, "certs/self-signed.der"},
						{pki.release2.CertDER, "certs/release2.der"},
						{pki.debianSigner, "certs/debian-signer.der"},
					} {
						if err := copyFile(c[0], filepath.Join(d, c[1])); err != nil {
							return err
						}
					}
					if err := copyFile(bins["imaboot-ca"], filepath.Join(d, "bin/imaboot-ca")); err != nil {
						return err
					}
					if err := os.Chmod(filepath.Join(d, "bin/imaboot-ca"), 0o755); err != nil {
						return err
					}
					if err := sign(filepath.Join(d, "bin/imaboot-ca")); err != nil {
						return err
					}
					return withPrograms(d, sign, "/usr/bin/keyctl")
				},
			},
		})
		expect(t, m, `ROOTINIT-DONE`)
		m.logTime(t, "the root's checks done")
		con := m.Console()
		st := status(t, m)

		for marker, want := range map[string]string{
			"RC-signed=":         "0",
			"RC-unsigned=":       "126",
			"RC-release2=":       "126",
			"RC-release2-after=": "126",
		} {
			if !strings.Contains(con, "\n"+marker+want+"\n") {
				t.Errorf("%s want %s", marker, want)
			}
		}
		if !strings.Contains(con, "\nRAN-signed\n") || strings.Contains(con, "\nRAN-unsigned\n") || strings.Contains(con, "\nRAN-release2") {
			t.Error("what ran is not what was signed by a loaded certificate")
		}
		// ima_appraise=log under Secure Boot: the kernel ignores it and says so.
		if !strings.Contains(con, "KERNEL-SAYS: ignoring ima_appraise=log") {
			t.Error("the kernel did not report ignoring ima_appraise=log")
		}
		if !strings.Contains(con, "\nEVM-STATE=2\n") {
			t.Error("EVM is not on with X509 (the EVM certificate from _evm_ca)")
		}
		if !strings.Contains(con, "LOCKDOWN=none [integrity] confidentiality") {
			t.Error("lockdown is not integrity under Secure Boot")
		}
		for marker, errno := range map[string]string{
			"ADD-SELF-IMA":       "Operation not permitted", // _ima: closed by a restriction
			"ADD-RELEASE2-IMA":   "Operation not permitted",
			"LINK-IMA":           "Operation not permitted",
			"ADD-SELF-EVM":       "Operation not permitted",
			"ADD-RELEASE2-EVMCA": "Permission denied",
			"ADD-RELEASE2-CA":    "Permission denied", // _ima_ca: no write for anyone
			"DEBIAN-SIGNER-CA":   "Permission denied",
			"LINK-CA":            "Permission denied",
			"SETPERM-CA":         "Permission denied", // nor setattr
		} {
			sm := regexp.MustCompile(`\n` + marker + `=(\d+) ([^\n]*)`).FindStringSubmatch(con)
			if sm == nil || sm[1] != "1" || !strings.HasSuffix(sm[2], errno) {
				t.Errorf("root's attempt %s: %q, want refused with %q", marker, sm, errno)
			}
		}
		if !strings.Contains(con, "\nDEBIAN-SIGNER-KERNEL-RESTRICTION=0 ") {
			t.Error("the kernel's own restriction did not take Debian's signing certificate: the test proves nothing about Debian's CA")
		}
		for _, want := range []string{"CHECK: SecureBoot enabled", "CHECK: MokListTrustedRT set", `CHECK: the owner's CA "imaboot test owner CA"`, "CHECK: READY"} {
			if !strings.Contains(con, want) {
				t.Errorf("imaboot-ca check: no %q", want)
			}
		}

		// The chain in the status file.
		tr := st.Trust
		if tr == nil {
			t.Fatal("no trust in the status file")
		}
		id, _ := keyload.NormalizeKeyID(pki.keyID)
		if tr.Mode != "ca" || !tr.CA.Found || tr.CA.KeyID != id || tr.CA.Subject != "imaboot test owner CA" || !tr.MachineKeyringTrusted {
			t.Errorf("trust %+v", tr)
		}
		if len(tr.CA.Keyrings) == 0 || tr.CA.Keyrings[0] != ".machine" {
			t.Errorf("the CA is in %v, want .machine first", tr.CA.Keyrings)
		}
		if len(tr.Keyrings) != 2 {
			t.Fatalf("CA keyrings %+v, want _ima_ca and _evm_ca", tr.Keyrings)
		}
		for i, name := range []string{"_ima_ca", "_evm_ca"} {
			k := tr.Keyrings[i]
			if k.Name != name || !k.Closed || len(k.Certificates) != 1 || k.Certificates[0].Subject != "CN=imaboot test release" {
				t.Errorf("CA keyring %+v", k)
			}
		}
		// The agent's own view of the boot: Secure Boot seen, the
		// ima_appraise=log on the command line known to be ignored, _ima and
		// _evm sealed by trust-ca before loading and the CA keyrings closed
		// after, enforcement proven by the agent's canary, lockdown
		// integrity, no warning.
		if st.SecureBoot != "enabled" || st.AppraiseMode != "enforce" || st.Keyrings != "sealed" || st.Enforcement != "proven" || st.Lockdown != "integrity" {
			t.Errorf("status: secure_boot %q, appraise_mode %q, keyrings %q, enforcement %q (%s), lockdown %q",
				st.SecureBoot, st.AppraiseMode, st.Keyrings, st.Enforcement, st.EnforcementDetail, st.Lockdown)
		}
		if len(st.Warnings) != 0 {
			t.Errorf("warnings: %q", st.Warnings)
		}
		detail := map[string]string{}
		for _, s := range st.Steps {
			detail[s.Name] = s.Detail
			if s.Result != "ok" && s.Result != "skipped" {
				t.Errorf("step %s: %s (%s)", s.Name, s.Result, s.Detail)
			}
		}
		if !strings.Contains(detail["appraise-mode"], "ima_appraise=log ignored by the kernel, Secure Boot is on") {
			t.Errorf("appraise-mode does not report ima_appraise=log ignored: %q", detail["appraise-mode"])
		}
		for _, re := range []string{
			`_ima \(key \d+\) sealed, 1 key\(s\): every later add or link is refused`,
			`_evm \(key \d+\) sealed, 1 key\(s\)`,
			`_ima_ca \(key \d+\) closed, 1 key\(s\), each signed by the owner's CA "imaboot test owner CA"`,
			`_evm_ca \(key \d+\) closed, 1 key\(s\)`,
		} {
			if !regexp.MustCompile(re).MatchString(detail["seal-keyrings"]) {
				t.Errorf("seal-keyrings does not say %s: %q", re, detail["seal-keyrings"])
			}
		}
	})
}

// TestSecureBootForeignCertificatesStop: with the owner's CA enrolled, an
// initramfs whose certificates include a self-signed one, one another CA
// signed and Debian's kernel signing certificate (signed by Debian's CA,
// which the kernel trusts too) stops before the switch, with one line
// naming each of them and the CA that was expected.
func TestSecureBootForeignCertificatesStop(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		vars := enrolledVars(t)
		m := boot(t, sbBoot{
			kernel: k,
			vars:   vars,
			config: trustConfig(),
			files: map[string]string{
				"/etc/keys/ima/10-release.der":       pki.release.CertDER,
				"/etc/keys/ima/20-self-signed.der":   pki.selfSigned.CertDER,
				"/etc/keys/ima/30-other-ca.der":      pki.otherCA.CertDER,
				"/etc/keys/ima/40-debian-signer.der": pki.debianSigner,
				"/etc/imaboot/ima-policy":            policyFile(t),
			},
		})
		line := expect(t, m, `imaboot: error: enforce: step ima-certificates failed: [^\n]*boot stopped before the switch`)[0]
		m.logTime(t, "the boot stopped")
		if err := m.Wait(bootWait); err != nil {
			t.Error("the machine did not power off after the failure (HALT=poweroff)")
		}
		if strings.Contains(m.Console(), "ROOTINIT") {
			t.Fatal("the boot went on into the root")
		}
		id, _ := keyload.NormalizeKeyID(pki.keyID)
		expected := `not signed by the owner's CA "imaboot test owner CA", key id ` + id
		for _, f := range []string{"20-self-signed.der", "30-other-ca.der", "40-debian-signer.der"} {
			i := strings.Index(line, f)
			if i < 0 {
				t.Errorf("the line does not name %s:\n%s", f, line)
				continue
			}
			if !strings.Contains(line[i:], "ENOKEY ("+expected) {
				t.Errorf("%s: the line does not say which CA was expected:\n%s", f, line)
			}
		}
		if strings.Contains(line, "10-release.der") {
			t.Errorf("the release certificate was refused:\n%s", line)
		}
		if !strings.Contains(line, "Debian Secure Boot Signer") {
			t.Errorf("the line does not name Debian's certificate by its subject:\n%s", line)
		}
	})
}

// TestSecureBootCAMissingStops: TRUST=ca on a machine where the owner's CA
// was never enrolled (OVMF's variables as shipped: .machine holds Debian's
// CA only) stops before the switch with one line saying so.
func TestSecureBootCAMissingStops(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		m := boot(t, sbBoot{
			kernel: k,
			vars:   firmware.MSVars,
			config: trustConfig(),
			files:  map[string]string{"/etc/keys/ima/release.der": pki.release.CertDER, "/etc/imaboot/ima-policy": policyFile(t)},
		})
		line := expect(t, m, `imaboot: error: enforce: step trust-ca failed: [^\n]*boot stopped before the switch`)[0]
		m.logTime(t, "the boot stopped")
		if err := m.Wait(bootWait); err != nil {
			t.Error("the machine did not power off after the failure (HALT=poweroff)")
		}
		id, _ := keyload.NormalizeKeyID(pki.keyID)
		for _, want := range []string{"the owner's CA (key id " + id + ") is not among the keys the kernel trusts", `.machine: "Debian Secure Boot CA"`, "mokutil --import"} {
			if !strings.Contains(line, want) {
				t.Errorf("the line lacks %q:\n%s", want, line)
			}
		}
		if strings.Contains(m.Console(), "ROOTINIT") {
			t.Fatal("the boot went on into the root")
		}
	})
}
