package debsign

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/keyload"
)

// KeyPackage describes the package that installs a certificate where
// imaboot's initramfs hooks look (/etc/keys/ima/NAME.der).
type KeyPackage struct {
	Name, Version string
	Cert          keyload.Certificate
	Maintainer    string    // default "imaboot-debsign <root@localhost>"
	ModTime       time.Time // of every member; zero: now (a fixed time makes the package reproducible)
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
// bad name or version): nothing was written.
var ErrKeyPackage = errors.New("keypkg")

// WriteKeyPackage writes the package into dir and returns its path.
func WriteKeyPackage(k KeyPackage, dir string) (string, error) {
	p, err := BuildKeyPackage(k)
	if err != nil {
		return "", err
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

	var data bytes.Buffer
	tw := tar.NewWriter(&data)
	for _, d := range []string{"./", "./etc/", "./etc/keys/", "./etc/keys/ima/"} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: now, Uname: "root", Gname: "root", Format: tar.FormatGNU})
	}
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + certPath, Mode: 0o644, Size: int64(len(der)), ModTime: now, Uname: "root", Gname: "root", Format: tar.FormatGNU})
	tw.Write(der)
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
 (imaboot-debsign). imaboot's initramfs hooks load it from
 /etc/keys/ima/ into the kernel's .ima keyring.
`, k.Name, k.Version, k.Maintainer, (len(der)+1023)/1024, k.Cert.Subject)
	md5sums := fmt.Sprintf("%x  %s\n", md5.Sum(der), certPath)
	var ctl bytes.Buffer
	tw = tar.NewWriter(&ctl)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755, ModTime: now, Uname: "root", Gname: "root", Format: tar.FormatGNU})
	for _, f := range []struct{ name, body string }{{"control", control}, {"md5sums", md5sums}} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: now, Uname: "root", Gname: "root", Format: tar.FormatGNU})
		tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return deb.New(ctl.Bytes(), data.Bytes(), deb.XZ, now.Unix())
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
