package relabel

// Interoperability with ima-evm-utils' evmctl (Debian's 1.4): labels written here must
// be what evmctl writes or accepts, and labels evmctl writes must verify here.
// evmctl 1.4's ima_verify computes key ids from the public key (SHA-1), not from the
// certificate, so its checks use certificates with openssl's default SubjectKeyIdentifier
// (the same SHA-1); custom identifiers are checked against evmctl ima_sign --keyid-from-cert.

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestHashLabelsMatchEvmctl(t *testing.T) {
	needTool(t, "evmctl")
	dir := labelDir(t)
	for i, algo := range []string{"sha1", "sha256", "sha384", "sha512"} {
		mine := filepath.Join(dir, algo+"-mine")
		theirs := filepath.Join(dir, algo+"-evmctl")
		content := string(bytes.Repeat([]byte{byte('a' + i)}, 70000+i))
		writeFile(t, mine, content, 0o755)
		writeFile(t, theirs, content, 0o755)
		a, _ := ParseHashAlgo(algo)
		s, err := Run(context.Background(), Options{Paths: []string{mine}, Algo: a})
		if err != nil || s.Labeled != 1 || s.Failed != 0 {
			t.Fatalf("%s: %+v %v", algo, s, err)
		}
		run(t, "evmctl", "ima_hash", "-a", algo, theirs)
		if got, want := getIMA(t, mine, XattrIMA), getIMA(t, theirs, XattrIMA); !bytes.Equal(got, want) {
			t.Errorf("%s: wrote %x, evmctl wrote %x", algo, got, want)
		}
	}
}

func TestSignaturesInterop(t *testing.T) {
	needTool(t, "evmctl")
	dir := labelDir(t)
	for _, tc := range []struct {
		kind, skid, algo string
	}{
		{"rsa", "", "sha256"},
		{"rsa", "", "sha1"},
		{"rsa", "", "sha512"},
		{"ec", "", "sha256"},
		{"rsa", "0102030405060708090a0b0c0d0e0f1011121314", "sha256"},
		{"ec", "a1a2a3a4a5a6a7a8", "sha256"},
	} {
		name := tc.kind + "-" + tc.algo
		if tc.skid != "" {
			name += "-skid"
		}
		t.Run(name, func(t *testing.T) {
			k := makeKey(t, dir, name, tc.kind, tc.skid)
			signer, err := LoadSigner(k.key, k.certPEM)
			if err != nil {
				t.Fatal(err)
			}
			algo, _ := ParseHashAlgo(tc.algo)
			mine := filepath.Join(dir, name+"-mine")
			theirs := filepath.Join(dir, name+"-evmctl")
			writeFile(t, mine, "#!/bin/sh\necho "+name+"\n", 0o755)
			writeFile(t, theirs, "#!/bin/sh\necho "+name+"\n", 0o755)
			s, err := Run(context.Background(), Options{Paths: []string{mine}, Algo: algo, Signer: signer})
			if err != nil || s.Labeled != 1 || s.Signed != 1 {
				t.Fatalf("run: %+v %v", s, err)
			}
			signArgs := []string{"ima_sign", "-a", tc.algo, "--key", k.key}
			if tc.skid != "" {
				signArgs = append(signArgs, "--keyid-from-cert", k.certPEM)
			}
			run(t, "evmctl", append(signArgs, theirs)...)
			got, want := getIMA(t, mine, XattrIMA), getIMA(t, theirs, XattrIMA)
			// type, version, algorithm, key id (ECDSA DER signatures vary in size)
			if !bytes.Equal(got[:7], want[:7]) {
				t.Errorf("header %x, evmctl's %x", got[:7], want[:7])
			}
			if tc.kind == "rsa" && !bytes.Equal(got, want) {
				t.Errorf("RSA PKCS#1 v1.5 is deterministic, yet labels differ:\n%x\n%x", got, want)
			}
			if tc.skid == "" {
				// evmctl accepts ours.
				run(t, "evmctl", "ima_verify", "--key", k.certDER, mine)
			}
			// We accept evmctl's.
			keys, err := LoadPublicKeys(k.certDER)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(context.Background(), VerifyOptions{Paths: []string{theirs}, Keys: keys})
			if err != nil || rep.Verified != 1 || rep.Failed != 0 {
				t.Fatalf("verify evmctl's label: %+v %v", rep, err)
			}
			// Evidence the checks can fail: a changed byte is refused by both.
			writeFile(t, mine, "#!/bin/sh\necho changed\n", 0o755)
			if tc.skid == "" {
				if out, err := exec.Command("evmctl", "ima_verify", "--key", k.certDER, mine).CombinedOutput(); err == nil {
					t.Errorf("evmctl accepted a changed file: %s", out)
				}
			}
			rep, _ = Verify(context.Background(), VerifyOptions{Paths: []string{mine}, Keys: keys})
			if rep.Failed != 1 {
				t.Errorf("changed file verified: %+v", rep)
			}
		})
	}
}

func TestEVMPortableInterop(t *testing.T) {
	needTool(t, "evmctl")
	dir := labelDir(t)
	k := makeKey(t, dir, "evm", "rsa", "")
	signer, err := LoadSigner(k.key, k.certPEM)
	if err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "evm-mine")
	theirs := filepath.Join(dir, "evm-evmctl")
	writeFile(t, mine, "binary\x00\x01", 0o750)
	writeFile(t, theirs, "binary\x00\x01", 0o750)
	for _, p := range []string{mine, theirs} { // a capability xattr is covered too
		setXattr(t, p, "security.capability", []byte{1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	}
	s, err := Run(context.Background(), Options{Paths: []string{mine}, Signer: signer, EVMPortable: true})
	if err != nil || s.Labeled != 1 || s.EVMSigned != 1 {
		t.Fatalf("run: %+v %v", s, err)
	}
	run(t, "evmctl", "sign", "--portable", "--imasig", "--key", k.key, theirs)
	for _, x := range []string{XattrIMA, XattrEVM} {
		if got, want := getIMA(t, mine, x), getIMA(t, theirs, x); !bytes.Equal(got, want) {
			t.Errorf("%s: wrote %x\nevmctl wrote %x", x, got, want)
		}
	}
	run(t, "evmctl", "verify", "--key", k.certDER, mine)
	keys, _ := LoadPublicKeys(k.certPEM)
	rep, err := Verify(context.Background(), VerifyOptions{Paths: []string{theirs}, Keys: keys})
	if err != nil || rep.Verified != 1 || rep.EVMVerified != 1 {
		t.Fatalf("verify evmctl's labels: %+v %v", rep, err)
	}
	// A changed mode breaks the portable signature (the kernel refuses it the same way).
	if err := exec.Command("chmod", "0755", theirs).Run(); err != nil {
		t.Fatal(err)
	}
	rep, _ = Verify(context.Background(), VerifyOptions{Paths: []string{theirs}, Keys: keys})
	if rep.Failed != 1 || rep.EVMVerified != 0 {
		t.Fatalf("mode change not detected: %+v", rep)
	}
	// A rerun leaves verifying labels alone.
	s, err = Run(context.Background(), Options{Paths: []string{mine}, Signer: signer, EVMPortable: true})
	if err != nil || s.AlreadyLabeled != 1 || s.Labeled != 0 {
		t.Fatalf("rerun: %+v %v", s, err)
	}
}
