package debsign

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/internal/atomicfile"
)

// KeyPackage describes NAME-ima-signing-key_VERSION_all.deb, which ships the
// signing certificate where imaboot's initramfs tools read it.
type KeyPackage struct {
	Name, Version string
	CertPath      string // PEM or DER
	Maintainer    string
}

var (
	pkgNameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	pkgVersionRE = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~-]*$`)
)

// Build writes the key package into dir and returns its path.
func (k KeyPackage) Build(dir string) (string, error) {
	if !pkgNameRE.MatchString(k.Name) {
		return "", fmt.Errorf("key package: name %q is not a Debian package name (lower case letters, digits, + - .)", k.Name)
	}
	if !pkgVersionRE.MatchString(k.Version) {
		return "", fmt.Errorf("key package: version %q is not a Debian version", k.Version)
	}
	raw, err := os.ReadFile(k.CertPath)
	if err != nil {
		return "", fmt.Errorf("key package: %w", err)
	}
	der := raw
	if b, _ := pem.Decode(raw); b != nil {
		if b.Type != "CERTIFICATE" {
			return "", fmt.Errorf("key package: %s holds a PEM %q, not a certificate", k.CertPath, b.Type)
		}
		der = b.Bytes
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return "", fmt.Errorf("key package: %s: %w", k.CertPath, err)
	}
	maint := k.Maintainer
	if maint == "" {
		maint = "imaboot-debsign <root@localhost>"
	}
	pkg := k.Name + "-ima-signing-key"
	certPath := "/etc/keys/ima/" + k.Name + ".der"
	control := fmt.Sprintf(`Package: %s
Version: %s
Architecture: all
Maintainer: %s
Section: admin
Priority: optional
Description: IMA signing certificate %s
 The certificate whose key signs this distribution's files for IMA
 appraisal, installed as %s for the initramfs (imaboot-mkinitramfs,
 the dracut and initramfs-tools hooks) to load into the IMA keyring.
`, pkg, k.Version, maint, k.Name, certPath)
	b, err := deb.Build(control, []string{certPath}, []deb.File{{Path: certPath, Mode: 0o644, Data: der}}, time.Unix(0, 0).UTC())
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, fmt.Sprintf("%s_%s_all.deb", pkg, versionForFile(k.Version)))
	return out, atomicfile.Write(out, b, 0o644)
}

// versionForFile drops the epoch, as Debian's file names do.
func versionForFile(v string) string {
	if i := regexp.MustCompile(`^[0-9]+:`).FindStringIndex(v); i != nil {
		return v[i[1]:]
	}
	return v
}
