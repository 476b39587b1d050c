package keyload

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// certDir lays out a certificate directory like /etc/keys/ima:
//
//	10-rsa.pem      RSA-2048, openssl's SKI
//	20-ec.der       ECDSA P-256, DER
//	30-bundle.pem   two certificates, one with a custom SKI
//	40-noski.pem    RSA-2048 without SubjectKeyIdentifier
//	50-corrupt.crt  garbage
//	60-dangling.pem symlink to nowhere
//	.hidden.pem     skipped
//	sub/            skipped
func certDir(t *testing.T) string {
	t.Helper()
	work := t.TempDir()
	dir := filepath.Join(work, "ima")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyTo := func(src, dst string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rsa, _ := certMake(t, work, certSpec{name: "rsa", cn: "dir rsa", key: "rsa"})
	copyTo(rsa, "10-rsa.pem")
	ec, _ := certMake(t, work, certSpec{name: "ec", cn: "dir ec", key: "ec"})
	certToDER(t, ec, filepath.Join(dir, "20-ec.der"))
	b1, _ := certMake(t, work, certSpec{name: "b1", cn: "dir bundle 1", key: "rsa"})
	b2, _ := certMake(t, work, certSpec{name: "b2", cn: "dir bundle 2", key: "rsa", ski: "feedface00c0ffee"})
	d1, _ := os.ReadFile(b1)
	d2, _ := os.ReadFile(b2)
	if err := os.WriteFile(filepath.Join(dir, "30-bundle.pem"), append(d1, d2...), 0o644); err != nil {
		t.Fatal(err)
	}
	noski, _ := certMake(t, work, certSpec{name: "noski", cn: "dir noski", key: "rsa", ski: "none"})
	copyTo(noski, "40-noski.pem")
	if err := os.WriteFile(filepath.Join(dir, "50-corrupt.crt"), []byte("\x30\x82\x01\x00broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	copyTo(rsa, ".hidden.pem")
	if err := os.Symlink("nowhere.pem", filepath.Join(dir, "60-dangling.pem")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadCertificatesIntoSessionKeyring(t *testing.T) {
	dir := certDir(t)
	sess := ringSession(t)
	ring, err := ringOpen(RingSpec{Fallback: "_ima", Parent: sess})
	if err != nil {
		t.Fatal(err)
	}

	report, err := certLoadDir(dir, ring)
	if err == nil {
		t.Fatal("no error for the corrupt file")
	}
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.HasSuffix(pe.File, "50-corrupt.crt") || pe.Step != "X.509" {
		t.Errorf("error %v, want an X.509 parse error for 50-corrupt.crt", err)
	}
	if len(report.Results) != 7 {
		t.Fatalf("%d results, want 7:\n%s", len(report.Results), strings.Join(report.Lines(), "\n"))
	}
	wantLoaded := 5
	for _, res := range report.Results {
		var le *LoadError
		if errors.As(res.Err, &le) && le.Cert.Algorithm == "ECDSA" {
			// A kernel without ECDSA (Debian 6.1, some hosts) must say so.
			if (le.Errno != unix.ENOENT && le.Errno != unix.ENOPKG) || !strings.Contains(le.Error(), "lacks the key or signature algorithm") {
				t.Errorf("ECDSA rejection does not name the missing algorithm: %v", le)
			}
			wantLoaded = 4
			t.Logf("this kernel has no ECDSA: %v", le)
		}
		if !res.Loaded() {
			continue
		}
		// The kernel must find the key by the key id we report: this is
		// the lookup IMA does for a signature ("id:%08x").
		found, err := unix.KeyctlSearch(ring.ID, "asymmetric", "id:"+res.Cert.KeyID, 0)
		if err != nil || found != res.Key {
			t.Errorf("%s: kernel lookup id:%s gave key %d, %v; want key %d", res.Cert, res.Cert.KeyID, found, err, res.Key)
		}
		desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, res.Key)
		if err != nil || !strings.Contains(desc, res.Cert.Subject[len("CN="):]) {
			t.Errorf("key %d description %q (%v) does not name %s", res.Key, desc, err, res.Cert.Subject)
		}
	}
	if report.Loaded() != wantLoaded {
		t.Errorf("%d loaded, want %d:\n%s", report.Loaded(), wantLoaded, strings.Join(report.Lines(), "\n"))
	}
	lines := strings.Join(report.Lines(), "\n")
	for _, want := range []string{"10-rsa.pem", "20-ec.der", "30-bundle.pem[2]", "key id 00c0ffee", "40-noski.pem", "warning: no SubjectKeyIdentifier", "rejected certificate", "50-corrupt.crt", "60-dangling.pem: read: open"} {
		if !strings.Contains(lines, want) {
			t.Errorf("report lacks %q:\n%s", want, lines)
		}
	}
	if strings.Contains(lines, "hidden") {
		t.Errorf("hidden file loaded:\n%s", lines)
	}
	if err := report.MinLoaded(wantLoaded); err != nil {
		t.Error(err)
	}
	if err := report.MinLoaded(wantLoaded + 1); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("MinLoaded(%d) = %v, want an error naming %s", wantLoaded+1, err, dir)
	}
}

func TestLoadCertificatesRestrictedKeyringRejects(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "ima")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p, _ := certMake(t, work, certSpec{name: "self", cn: "self signed", key: "rsa"})
	if err := os.Rename(p, filepath.Join(dir, "self.pem")); err != nil {
		t.Fatal(err)
	}
	sess := ringSession(t)
	// A keyring restricted like the kernel's .ima: only keys signed by a
	// built-in trusted key may be linked.
	id, err := unix.AddKey("keyring", "fake .ima", nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.KeyctlRestrictKeyring(id, "asymmetric", "builtin_trusted"); err != nil {
		t.Fatalf("restrict keyring: %v", err)
	}
	keys := filepath.Join(work, "keys")
	line := fmt.Sprintf("%08x I------     1 perm 1f0f0000     0     0 keyring   .ima: empty\n", id)
	if err := os.WriteFile(keys, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	ring, err := ringOpen(RingSpec{Trusted: ".ima", Fallback: "_ima", Parent: sess, ProcKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if !ring.Trusted || ring.ID != id {
		t.Fatalf("ring %+v, want trusted %d", ring, id)
	}
	report, err := certLoadDir(dir, ring)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v, want a *LoadError", err)
	}
	if le.Errno != unix.ENOKEY {
		t.Errorf("errno %v, want ENOKEY", le.Errno)
	}
	msg := err.Error()
	for _, want := range []string{"self.pem", "ENOKEY", "not signed by a key in .builtin_trusted_keys", "CN=self signed", le.Cert.KeyID} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if report.Loaded() != 0 || report.MinLoaded(1) == nil {
		t.Errorf("report %v: loaded %d", report.Lines(), report.Loaded())
	}
}

func TestLoadCertificatesEmptyAndMissingDir(t *testing.T) {
	sess := ringSession(t)
	ring, err := ringOpen(RingSpec{Fallback: "_evm", Parent: sess})
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	report, err := certLoadDir(empty, ring)
	if err != nil || report.Loaded() != 0 {
		t.Fatalf("empty dir: %v, %d loaded", err, report.Loaded())
	}
	if err := report.MinLoaded(1); err == nil || !strings.Contains(err.Error(), empty) || !strings.Contains(err.Error(), "at least 1") {
		t.Errorf("MinLoaded(1) on an empty dir: %v", err)
	}
	if err := report.MinLoaded(0); err != nil {
		t.Errorf("MinLoaded(0): %v", err)
	}
	_, err = certLoadDir(filepath.Join(empty, "nope"), ring)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing dir: %v, want ErrNotExist naming the dir", err)
	}
}

// certLoadDir is ReadCertificates then Load, as the agent does them.
func certLoadDir(dir string, ring KernelKeyring) (CertReport, error) {
	set, err := ReadCertificates(dir)
	if err != nil {
		return CertReport{Ring: ring, Sources: set.Sources}, err
	}
	return set.Load(ring)
}
