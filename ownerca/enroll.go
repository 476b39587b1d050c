package ownerca

import (
	"crypto/x509"
	"fmt"
	"strings"
)

// ConfigLines are the imaboot.conf lines that make the agent accept only
// certificates ca signed.
func ConfigLines(ca *x509.Certificate) string {
	return fmt.Sprintf("TRUST=ca\nTRUST_CA=%s\n", KeyID(ca))
}

// EnrollSteps is what the owner does once on each machine to enroll ca
// (whose DER file is caDER on that machine) as a Machine Owner Key, and to
// check it took, in order.
func EnrollSteps(caDER string, ca *x509.Certificate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Enroll the owner's CA %q (key id %s) on each machine, once, as root:\n\n", ca.Subject.CommonName, KeyID(ca))
	fmt.Fprintf(&b, "  1. mokutil --import %s\n", shellQuote(caDER))
	b.WriteString("       (asks for a one-time password, to type again at the next boot)\n")
	b.WriteString("  2. reboot; at MokManager's blue screen, at the console: press a key, then\n")
	b.WriteString("       Enroll MOK, Continue, Yes, the password, Reboot\n")
	fmt.Fprintf(&b, "  3. imaboot-ca check --key-id %s\n", KeyID(ca))
	b.WriteString("       (Secure Boot on, MokListTrustedRT set, the CA in the kernel's .machine keyring)\n")
	b.WriteString("  4. in /etc/imaboot/imaboot.conf:\n")
	for _, l := range strings.Split(strings.TrimSpace(ConfigLines(ca)), "\n") {
		fmt.Fprintf(&b, "       %s\n", l)
	}
	b.WriteString("     with the release certificates the CA signed in /etc/keys/ima (imaboot-debsign keypkg --ca),\n")
	b.WriteString("     then rebuild the initramfs (update-initramfs -u, or dracut --force).\n\n")
	b.WriteString("A new release certificate signed by the same CA needs none of steps 1-3: only a new initramfs.\n")
	return b.String()
}

// shellQuote quotes s for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
