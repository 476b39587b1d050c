package tpm

import (
	"bytes"
	"encoding/asn1"
	"encoding/binary"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// tss2Key is the kernel's TSS2 key in encoding/asn1's terms, to check the
// hand-written DER of TrustedKeyBlob against.
type tss2Key struct {
	Type      asn1.ObjectIdentifier
	EmptyAuth bool `asn1:"explicit,tag:0,optional"`
	Parent    int64
	Pubkey    []byte // TPM2B_PUBLIC with its size
	Privkey   []byte // TPM2B_PRIVATE with its size
}

// The hand-written DER is byte for byte what encoding/asn1 writes, over
// the lengths where DER's length form changes and the handles where the
// INTEGER needs a leading zero.
func TestTrustedKeyBlobMatchesEncodingASN1(t *testing.T) {
	for _, parent := range []tpm2.TPMHandle{0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fffffff, 0x80000000, 0x81000001, 0xffffffff} {
		for _, n := range []int{0, 1, 0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff, 0x100, 0x1000, 0xfffd, 0xffff} {
			b := &Blob{Public: bytes.Repeat([]byte{0xa5}, n), Private: bytes.Repeat([]byte{0x5a}, n/2+3)}
			got, err := TrustedKeyBlob(b, parent)
			if err != nil {
				t.Fatal(err)
			}
			want, err := asn1.Marshal(tss2Key{Type: asn1.ObjectIdentifier{2, 23, 133, 10, 1, 5}, EmptyAuth: true,
				Parent: int64(parent), Pubkey: sized(b.Public), Privkey: sized(b.Private)})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("parent %#x, %d-byte public: got %x, encoding/asn1 %x", parent, n, got[:min(len(got), 40)], want[:min(len(want), 40)])
			}
		}
	}
}

func TestTrustedKeyBlobDecodesLikeTheKernel(t *testing.T) {
	b := &Blob{Public: []byte{1, 2, 3}, Private: []byte{4, 5}}
	der, err := TrustedKeyBlob(b, 0x80000001)
	if err != nil {
		t.Fatal(err)
	}
	var k tss2Key
	if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) != 0 {
		t.Fatalf("decode: %v (%d stray bytes)", err, len(rest))
	}
	if !k.Type.Equal(asn1.ObjectIdentifier{2, 23, 133, 10, 1, 5}) || !k.EmptyAuth {
		t.Errorf("type %v emptyAuth %v", k.Type, k.EmptyAuth)
	}
	// The kernel reads the parent INTEGER's bytes into a u32.
	if k.Parent != 0x80000001 {
		t.Errorf("parent %#x", k.Parent)
	}
	if !bytes.Equal(k.Pubkey, []byte{0, 3, 1, 2, 3}) || !bytes.Equal(k.Privkey, []byte{0, 2, 4, 5}) {
		t.Errorf("pub %x priv %x", k.Pubkey, k.Privkey)
	}
	// emptyAuth is the explicit [0] BOOLEAN TRUE the kernel writes.
	if !bytes.Contains(der, []byte{0xa0, 0x03, 0x01, 0x01, 0xff}) {
		t.Errorf("no [0] emptyAuth in %x", der)
	}
}

// kernelUnseal does what security/keys/trusted-keys/trusted_tpm2.c does
// with a TSS2 key and a policyhandle: Load under the parent, then Unseal
// authorized by the policy session with an empty nonce and HMAC.
func kernelUnseal(t *testing.T, tp transport.TPM, u *TrustedUnseal) ([]byte, tpm2.TPMRC) {
	t.Helper()
	var k tss2Key
	if _, err := asn1.Unmarshal(u.KeyBlob, &k); err != nil {
		t.Fatal(err)
	}
	parent, err := tpm2.ReadPublic{ObjectHandle: tpm2.TPMHandle(k.Parent)}.Execute(tp)
	if err != nil {
		t.Fatalf("parent 0x%08x: %v", k.Parent, err)
	}
	loaded, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(k.Parent), Name: parent.Name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    tpm2.TPM2BPrivate{Buffer: k.Privkey[2:]},
		InPublic:     tpm2.BytesAs2B[tpm2.TPMTPublic](k.Pubkey[2:]),
	}.Execute(tp)
	if err != nil {
		t.Fatalf("kernel-style load: %v", err)
	}
	defer flush(tp, loaded.ObjectHandle)
	cmd := binary.BigEndian.AppendUint16(nil, uint16(tpm2.TPMSTSessions))
	cmd = binary.BigEndian.AppendUint32(cmd, 0) // size, below
	cmd = binary.BigEndian.AppendUint32(cmd, uint32(tpm2.TPMCCUnseal))
	cmd = binary.BigEndian.AppendUint32(cmd, uint32(loaded.ObjectHandle))
	cmd = binary.BigEndian.AppendUint32(cmd, 9) // auth area: handle, nonce 0, attrs, hmac 0
	cmd = binary.BigEndian.AppendUint32(cmd, uint32(u.Session))
	cmd = append(cmd, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(cmd[2:], uint32(len(cmd)))
	rsp, err := tp.Send(cmd)
	if err != nil {
		t.Fatal(err)
	}
	rc := tpm2.TPMRC(binary.BigEndian.Uint32(rsp[6:10]))
	if rc != tpm2.TPMRCSuccess {
		return nil, rc
	}
	n := binary.BigEndian.Uint16(rsp[14:16])
	return rsp[16 : 16+int(n)], rc
}

func TestPrepareTrustedUnsealAsTheKernelUsesIt(t *testing.T) {
	tp := startTPM(t) // swtpm's socket has no resource manager, like /dev/tpm0
	blob, err := Seal(tp, secret, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := PrepareTrustedUnseal(tp, blob, UnsealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, rc := kernelUnseal(t, tp, u)
	u.Close(tp)
	if rc != tpm2.TPMRCSuccess || !bytes.Equal(got, secret) {
		t.Fatalf("kernel-style unseal: rc %v, %q", rc, got)
	}
	assertNoTransients(t, tp)

	if err := ExtendPCR(tp, DefaultLockPCR, []byte(LockMeasurement)); err != nil {
		t.Fatal(err)
	}
	u, err = PrepareTrustedUnseal(tp, blob, UnsealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, rc = kernelUnseal(t, tp, u)
	u.Close(tp)
	if !rc.Is(tpm2.TPMRCPolicyFail) {
		t.Fatalf("after lock: rc %v, want TPM_RC_POLICY_FAIL", rc)
	}
	assertNoTransients(t, tp)
}
