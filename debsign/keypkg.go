package debsign

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/ownerca"
)

// KeyPackage describes the package that installs a certificate where
// imaboot's initramfs hooks look (/etc/keys/ima/NAME.der).
type KeyPackage struct {
	Name, Version string
	Cert          keyload.Certificate
	Maintainer    string    // default "imaboot-debsign <root@localhost>"
	ModTime       time.Time // of every member; zero: now (a fixed time makes the package reproducible)
	// CA, when set, is the owner's CA that signed Cert (TRUST=ca): the
	// package is written only if the kernel will accept Cert under it, and
	// it installs the CA's certificate too, as /usr/share/imaboot/ca/NAME.der,
	// for mokutil --import.
	CA *keyload.Certificate
}

var (
	pkgName    = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	pkgVersion = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$`)
)

// FileName is NAME-ima-signing-key_VER_all.deb (an epoch is left out, as
// dpkg-name does).
func (k KeyPackage) FileName() string {
	v := k.Version
	if i := bytes.IndexByte([]byte(v), ':'); i >= 0 {
		v = v[i+1:]
	}
	return fmt.Sprintf("%s-ima-signing-key_%s_all.deb", k.Name, v)
}

// ErrKeyPackage is wrapped by WriteKeyPackage's errors about its input (a
// bad name or version, a certificate its CA did not sign): nothing was
// written.
var ErrKeyPackage = errors.New("keypkg")

// WriteKeyPackage writes the package into dir and returns its path.
func WriteKeyPackage(k KeyPackage, dir string) (string, error) {
	p, err := BuildKeyPackage(k)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("keypkg: %w", err)
	}
	out := filepath.Join(dir, k.FileName())
	return out, WriteAtomic(out, 0o644, p)
}

// BuildKeyPackage builds the package in memory.
func BuildKeyPackage(k KeyPackage) (*deb.Package, error) {
	if !pkgName.MatchString(k.Name + "-ima-signing-key") {
		return nil, fmt.Errorf("%w: name %q: want lower-case letters, digits, plus, minus or dot", ErrKeyPackage, k.Name)
	}
	if !pkgVersion.MatchString(k.Version) {
		return nil, fmt.Errorf("%w: version %q is not a Debian version", ErrKeyPackage, k.Version)
	}
	if k.Maintainer == "" {
		k.Maintainer = "imaboot-debsign <root@localhost>"
	}
	der := k.Cert.DER
	now := k.ModTime.Truncate(time.Second)
	if k.ModTime.IsZero() {
		now = time.Now().Truncate(time.Second)
	}
	certPath := "etc/keys/ima/" + k.Name + ".der"
	files := []struct {
		path string
		data []byte
	}{{certPath, der}}
	dirs := []string{"./", "./etc/", "./etc/keys/", "./etc/keys/ima/"}
	description := ""
	if k.CA != nil {
		id, err := k.verifyCA()
		if err != nil {
			return nil, err
		}
		caPath := "usr/share/imaboot/ca/" + k.Name + ".der"
		files = append(files, struct {
			path string
			data []byte
		}{caPath, k.CA.DER})
		dirs = append(dirs, "./usr/", "./usr/share/", "./usr/share/imaboot/", "./usr/share/imaboot/ca/")
		description = fmt.Sprintf(` It is signed by the owner's CA %s (key id %s), whose
 certificate is /%s: enroll it once per machine
 (mokutil --import, imaboot-ca enroll) and set TRUST=ca and
 TRUST_CA=%s in /etc/imaboot/imaboot.conf.
`, k.CA.Subject, id, caPath, id)
	}

	var data bytes.Buffer
	tw := tar.NewWriter(&data)
	for _, d := range dirs {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: now, Uname: "root", Gname: "root", Format: tar.FormatGNU})
	}
	size := 0
	var md5sums strings.Builder
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + f.path, Mode: 0o644, Size: int64(len(f.data)), ModTime: now, Uname: "root", Gname: "root", Format: tar.FormatGNU})
		tw.Write(f.data)
		size += len(f.data)
		fmt.Fprintf(&md5sums, "%x  %s\n", md5.Sum(f.data), f.path)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}

	control := fmt.Sprintf(`Package: %s-ima-signing-key
Version: %s
Architecture: all
Maintainer: %s
Installed-Size: %d
Section: admin
Priority: optional
Description: IMA signing certificate %s
 The certificate whose key signs this site's packages for IMA
 (imaboot-debsign). imaboot's initramfs hooks copy it from
 /etc/keys/ima/ into the initramfs (rebuilt when this package changes),
 whose agent loads it into the kernel's IMA keyring.
%s`, k.Name, k.Version, k.Maintainer, (size+1023)/1024, k.Cert.Subject, description)
	var ctl bytes.Buffer
	tw = tar.NewWriter(&ctl)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755, ModTime: now, Uname: "root", Gname: "root", Format: tar.FormatGNU})
	// The initramfs hooks copy /etc/keys/ima into the initramfs, where the
	// agent reads it: a new certificate must reach it before the next boot
	// (initramfs-tools and dracut are both interested in this trigger).
	triggers := "activate-noawait update-initramfs\n"
	for _, f := range []struct{ name, body string }{{"control", control}, {"md5sums", md5sums.String()}, {"triggers", triggers}} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: now, Uname: "root", Gname: "root", Format: tar.FormatGNU})
		tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return deb.New(ctl.Bytes(), data.Bytes(), deb.XZ, now.Unix())
}

// verifyCA checks that the kernel will accept the certificate under
// TRUST=ca with k.CA, and returns the CA's key id.
func (k KeyPackage) verifyCA() (string, error) {
	ca, err := x509.ParseCertificate(k.CA.DER)
	if err != nil {
		return "", fmt.Errorf("%w: CA %s: %w", ErrKeyPackage, k.CA.File, err)
	}
	cert, err := x509.ParseCertificate(k.Cert.DER)
	if err != nil {
		return "", fmt.Errorf("%w: certificate %s: %w", ErrKeyPackage, k.Cert.File, err)
	}
	if !ca.IsCA || len(ca.SubjectKeyId) == 0 {
		return "", fmt.Errorf("%w: %s is not a CA certificate with a SubjectKeyIdentifier", ErrKeyPackage, k.CA.File)
	}
	if err := ownerca.Verify(ca, cert).Err(); err != nil {
		return "", fmt.Errorf("%w: %s would be refused under TRUST=ca with the CA %s: %w", ErrKeyPackage, k.Cert.File, k.CA.File, err)
	}
	return ownerca.KeyID(ca), nil
}

// LoadCert reads the one certificate of a PEM or DER file (keyload's
// reader: errors name the file and the parse step).
func LoadCert(path string) (keyload.Certificate, error) {
	cs, err := keyload.ReadCertificateFile(path)
	if err != nil {
		return keyload.Certificate{}, err
	}
	if len(cs) != 1 {
		return keyload.Certificate{}, fmt.Errorf("certificate %s: %d certificates, want one", path, len(cs))
	}
	return cs[0], nil
}
