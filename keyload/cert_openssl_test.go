package keyload

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// certSpec describes a test certificate made by openssl.
type certSpec struct {
	name string // file stem
	cn   string
	key  string // "rsa" (RSA-2048) or "ec" (ECDSA P-256)
	ski  string // "" openssl's default (hash), "none", or hex
}

// certMake makes a self-signed certificate with openssl in dir and returns
// the paths of the PEM certificate and of its private key.
func certMake(t *testing.T, dir string, s certSpec) (certPEM, keyPEM string) {
	t.Helper()
	certPEM = filepath.Join(dir, s.name+".pem")
	keyPEM = filepath.Join(dir, s.name+".key")
	args := []string{"req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=" + s.cn,
		"-keyout", keyPEM, "-out", certPEM}
	switch s.key {
	case "rsa":
		args = append(args, "-newkey", "rsa:2048")
	case "ec":
		args = append(args, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")
	default:
		t.Fatalf("bad key type %q", s.key)
	}
	switch s.ski {
	case "":
	case "none":
		args = append(args, "-addext", "subjectKeyIdentifier=none", "-addext", "authorityKeyIdentifier=none")
	default:
		args = append(args, "-addext", "subjectKeyIdentifier="+s.ski)
	}
	certRun(t, "openssl", args...)
	return certPEM, keyPEM
}

// certToDER converts a PEM certificate to DER at out.
func certToDER(t *testing.T, pemPath, out string) {
	t.Helper()
	certRun(t, "openssl", "x509", "-in", pemPath, "-outform", "DER", "-out", out)
}

// certOpenSSLSKI asks openssl for a certificate's SubjectKeyIdentifier.
func certOpenSSLSKI(t *testing.T, pemPath string) string {
	t.Helper()
	out := certRun(t, "openssl", "x509", "-in", pemPath, "-noout", "-ext", "subjectKeyIdentifier")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(lines[len(lines)-1]), ":", ""))
}

// certEvmctlKeyID signs a file with evmctl (a real peer) and returns the key
// id it wrote in the signature header: type 03, version 02, hash algo, then
// 4 key id bytes.
func certEvmctlKeyID(t *testing.T, dir, keyPEM string) string {
	t.Helper()
	f := filepath.Join(dir, "signed-by-evmctl")
	if err := os.WriteFile(f, []byte("payload\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	certRun(t, "evmctl", "ima_sign", "--sigfile", "--key", keyPEM, f)
	sig, err := os.ReadFile(f + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) < 7 || sig[0] != 0x03 || sig[1] != 0x02 {
		t.Fatalf("evmctl signature header %x: not an IMA v2 signature", sig[:min(len(sig), 8)])
	}
	return hex.EncodeToString(sig[3:7])
}

func certRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
