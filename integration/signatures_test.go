package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/initagent"
	"github.com/imaboot/imaboot/integration/fixture"
)

// pseudoFSExclusions and basicPolicy: see fixture.
const (
	pseudoFSExclusions = fixture.PseudoFSExclusions
	basicPolicy        = fixture.AppraisePolicy
)

// signingKey is a key pair and its certificate made by openssl.
type signingKey = fixture.SigningKey

func newSigningKey(t testing.TB, dir, name, alg string) signingKey {
	t.Helper()
	k, err := fixture.NewSigningKey(dir, name, alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// evmSign signs file with evmctl (ima-evm-utils, the real peer).
func evmSign(t testing.TB, k signingKey, hash, file string) {
	t.Helper()
	if err := fixture.EVMSign(k, hash, file); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
}

// signedFile is one executable of the test root: a busybox copy named echo
// (busybox picks its applet from the name) in its own directory.
type signedFile struct {
	dir  string // /opt/<dir>/echo
	key  *signingKey
	hash string
	// tamper changes one byte after signing.
	tamper bool
}

// execChecks is /test.sh: each /opt/*/echo runs as root and as user 65534,
// and the exit code and measurement list are printed.
func execChecks(files []signedFile) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, f := range files {
		p := "/opt/" + f.dir + "/echo"
		fmt.Fprintf(&b, "%s RAN-%s; echo \"RC-%s=$?\"\n", p, f.dir, f.dir)
		fmt.Fprintf(&b, "su nobody -s /bin/sh -c '%s USERRAN-%s'; echo \"USERRC-%s=$?\"\n", p, f.dir, f.dir)
		fmt.Fprintf(&b, "echo \"MEASURED-%s=$(grep -cE ' %s( |$)' /sys/kernel/security/ima/ascii_runtime_measurements)\"\n", f.dir, p)
	}
	return b.String()
}

// signedRoot prepares a root whose system files (busybox, /sbin/init,
// /test.sh) are signed with sys, plus the files of the test.
func signedRoot(t testing.TB, sys signingKey, files []signedFile) fixture.Root {
	return fixture.Root{
		Files: map[string]string{
			"/test.sh":    execChecks(files),
			"/etc/passwd": "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
			"/etc/group":  "root:x:0:\nnogroup:x:65534:\n",
		},
		Prepare: func(dir string) error {
			for _, p := range []string{"bin/busybox", "sbin/init", "test.sh"} {
				os.Chmod(filepath.Join(dir, p), 0o755)
				evmSign(t, sys, "sha256", filepath.Join(dir, p))
			}
			for _, f := range files {
				p := filepath.Join(dir, "opt", f.dir, "echo")
				copyFile(t, filepath.Join(dir, "bin/busybox"), p, 0o755)
				if f.key != nil {
					evmSign(t, *f.key, f.hash, p)
				}
				if f.tamper {
					fh, err := os.OpenFile(p, os.O_WRONLY, 0)
					if err != nil {
						return err
					}
					// The last byte: busybox still runs, the digest changes.
					st, _ := fh.Stat()
					fh.WriteAt([]byte{0x5a}, st.Size()-1)
					fh.Close()
				}
			}
			return nil
		},
	}
}

// expectExec checks that a file ran (rc 0, output seen, measured) or was
// refused with EACCES (126), for root and for an unprivileged user.
func expectExec(t *testing.T, con string, f signedFile, runs bool) {
	t.Helper()
	want := "126"
	if runs {
		want = "0"
	}
	for _, who := range []string{"RC", "USERRC"} {
		if !strings.Contains(con, who+"-"+f.dir+"="+want+"\n") {
			t.Errorf("/opt/%s/echo (%s): want exit %s", f.dir, who, want)
		}
	}
	if runs != strings.Contains(con, "\nRAN-"+f.dir+"\n") || runs != strings.Contains(con, "\nUSERRAN-"+f.dir+"\n") {
		t.Errorf("/opt/%s/echo: ran=%v, want %v", f.dir, !runs, runs)
	}
}

// expectMeasured checks that the file's execution is in the IMA
// measurement list.
func expectMeasured(t *testing.T, con string, f signedFile) {
	t.Helper()
	if !strings.Contains(con, "MEASURED-"+f.dir+"=") || strings.Contains(con, "MEASURED-"+f.dir+"=0\n") {
		t.Errorf("/opt/%s/echo is not in the measurement list", f.dir)
	}
}

// TestSignaturesEnforced: with the IMA certificates and an appraisal policy
// loaded by imaboot-init, evmctl-signed executables run on the real root
// (as root and as an unprivileged user), unsigned and tampered ones get
// EACCES. RSA-2048 with sha256 and sha512 (the sha512 module is loaded
// from the initramfs on 6.1) on both kernels; ECDSA P-256 on 6.12. The
// status file says keyrings sealed, enforcement proven, lockdown integrity.
func TestSignaturesEnforced(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		dir := t.TempDir()
		rsa := newSigningKey(t, dir, "rsa", "rsa")
		files := []signedFile{
			{dir: "signed", key: &rsa, hash: "sha256"},
			{dir: "signed512", key: &rsa, hash: "sha512"},
			{dir: "unsigned"},
			{dir: "tampered", key: &rsa, hash: "sha256", tamper: true},
		}
		certs := map[string]string{"/etc/keys/ima/rsa.der": rsa.CertDER}
		if k.Short() != "6.1" {
			ec := newSigningKey(t, dir, "ec", "ec")
			files = append(files, signedFile{dir: "signedec", key: &ec, hash: "sha256"})
			certs["/etc/keys/ima/ec.pem"] = ec.CertPEM
		}
		policy := filepath.Join(dir, "ima-policy")
		if err := os.WriteFile(policy, []byte(basicPolicy), 0o644); err != nil {
			t.Fatal(err)
		}
		certs["/etc/imaboot/ima-policy"] = policy
		m := boot(t, k, scenario{
			integrity: true,
			modules:   []string{"virtio_pci", "virtio_blk", "sha512_generic"},
			append:    "root=/dev/vda",
			files:     certs,
			root:      signedRoot(t, rsa, files),
		})
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		for _, f := range files {
			runs := f.key != nil && !f.tamper
			expectExec(t, con, f, runs)
			if runs {
				expectMeasured(t, con, f)
			}
		}
		st := status(t, m)
		for _, name := range []string{"ima-certificates", "ima-policy"} {
			if !stepDone(st, name) {
				t.Errorf("step %s not done", name)
			}
		}
		for _, s := range st.Steps {
			if s.Result != "ok" && s.Result != "skipped" {
				t.Errorf("step %s: %s (%s)", s.Name, s.Result, s.Detail)
			}
		}
		if !strings.Contains(con, "imaboot: ima-policy: IMA policy loaded, 9 rules (after 1 of imaboot's own)") {
			t.Error("policy load not reported")
		}
		// The policy leaves tmpfs alone; imaboot's canary rule still lets
		// the agent prove the kernel enforces.
		expectHolds(t, st, initagent.Enforce, initagent.EnforcementProven, "sealed", "integrity")
	})
}

// sh runs a command on the host and fails the test with its output.
func sh(t testing.TB, name string, args ...string) {
	t.Helper()
	if err := fixture.Run(name, args...); err != nil {
		t.Fatal(err)
	}
}
