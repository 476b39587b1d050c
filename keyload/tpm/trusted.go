package tpm

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// The kernel's `trusted` key type (CONFIG_TRUSTED_KEYS) can unseal the
// same sealed object itself: user space loads nothing secret, it only
// derives the primary key and satisfies the PCR policy in a session, then
// hands the kernel the object as a "TSS2 PRIVATE KEY" (the ASN.1 form in
// security/keys/trusted-keys/tpm2key.asn1) naming the primary's handle as
// parent, and the session's handle ("load <hex> policyhandle=0x…").
//
// The handles must be real TPM handles: go through the raw device
// (/dev/tpm0), not the resource manager (/dev/tpmrm0), whose handles are
// private to one open file and flushed when it closes.

// tss2SealedDataOID is TPMSealedData (2.23.133.10.1.5), the only key type
// the kernel's trusted keys accept, DER-encoded without its tag and length.
var tss2SealedDataOID = []byte{0x67, 0x81, 0x05, 0x0a, 0x01, 0x05}

// TrustedKeyBlob encodes the blob's sealed object as the kernel's TPM 2.0
// trusted key blob, under the loaded parent key at handle parent:
//
//	SEQUENCE { type OBJECT IDENTIFIER, emptyAuth [0] EXPLICIT BOOLEAN TRUE,
//	           parent INTEGER, pubkey OCTET STRING, privkey OCTET STRING }
//
// written by hand in DER: encoding/asn1's reflective Marshal cost
// imaboot-init more than this fixed shape is worth. trusted_test.go checks
// it against encoding/asn1.
func TrustedKeyBlob(b *Blob, parent tpm2.TPMHandle) ([]byte, error) {
	pub, priv := sized(b.Public), sized(b.Private)
	if len(pub) > 0xffff+2 || len(priv) > 0xffff+2 {
		return nil, fmt.Errorf("encode %s as a trusted key blob: public or private part over 64 KiB", b.name())
	}
	var body []byte
	body = derTLV(body, 0x06, tss2SealedDataOID)
	body = derTLV(body, 0xa0, []byte{0x01, 0x01, 0xff}) // [0] { BOOLEAN TRUE }
	body = derTLV(body, 0x02, derUint(uint32(parent)))
	body = derTLV(body, 0x04, pub)
	body = derTLV(body, 0x04, priv)
	return derTLV(nil, 0x30, body), nil
}

// derTLV appends tag, DER definite length and value.
func derTLV(out []byte, tag byte, value []byte) []byte {
	out = append(out, tag)
	switch n := len(value); {
	case n < 0x80:
		out = append(out, byte(n))
	case n <= 0xff:
		out = append(out, 0x81, byte(n))
	case n <= 0xffff:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, value...)
}

// derUint is the minimal two's complement content octets of a
// non-negative INTEGER.
func derUint(v uint32) []byte {
	b := binary.BigEndian.AppendUint32([]byte{0}, v)
	for len(b) > 1 && b[0] == 0 && b[1] < 0x80 {
		b = b[1:]
	}
	return b
}

// sized prefixes b with its 16-bit big-endian length (a TPM2B).
func sized(b []byte) []byte {
	out := binary.BigEndian.AppendUint16(nil, uint16(len(b)))
	return append(out, b...)
}

// TrustedUnseal is what the kernel needs to unseal a trusted key: a loaded
// parent, a policy session that has passed PolicyPCR, and the key blob.
type TrustedUnseal struct {
	Parent  tpm2.TPMHandle
	Session tpm2.TPMHandle
	KeyBlob []byte // TrustedKeyBlob(b, Parent)
}

// PrepareTrustedUnseal creates the transient primary key and a policy
// session that has executed PolicyPCR over the blob's PCRs (three
// commands: CreatePrimary, StartAuthSession, PolicyPCR). The kernel's
// Unseal consumes the session; Close flushes what is left. t must be the
// raw TPM device.
func PrepareTrustedUnseal(t transport.TPM, b *Blob, opts UnsealOptions) (*TrustedUnseal, error) {
	t = retrier{t}
	primary, err := createPrimary(t, opts.OwnerAuth)
	if err != nil {
		return nil, fmt.Errorf("prepare trusted unseal of %s: %w", b.name(), err)
	}
	if !bytes.Equal(primary.name.Buffer, b.ParentName) {
		flush(t, primary.handle)
		return nil, fmt.Errorf("prepare trusted unseal of %s: %w", b.name(), ErrOtherTPM)
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		flush(t, primary.handle)
		return nil, err
	}
	// Unsalted and unbound: the kernel authorizes Unseal with this session
	// without knowing any session key (it sends an empty HMAC, which a
	// policy session without PolicyAuthValue accepts).
	sas, err := tpm2.StartAuthSession{
		TPMKey:      tpm2.TPMRHNull,
		Bind:        tpm2.TPMRHNull,
		NonceCaller: tpm2.TPM2BNonce{Buffer: nonce},
		SessionType: tpm2.TPMSEPolicy,
		Symmetric:   tpm2.TPMTSymDef{Algorithm: tpm2.TPMAlgNull},
		AuthHash:    tpm2.TPMAlgSHA256,
	}.Execute(t)
	if err != nil {
		flush(t, primary.handle)
		return nil, fmt.Errorf("prepare trusted unseal of %s: start policy session: %w", b.name(), err)
	}
	session := tpm2.TPMHandle(sas.SessionHandle)
	_, err = tpm2.PolicyPCR{PolicySession: sas.SessionHandle, Pcrs: pcrSelection(b.Bank, b.PCRIndexes())}.Execute(t)
	if err != nil {
		flush(t, session)
		flush(t, primary.handle)
		return nil, fmt.Errorf("prepare trusted unseal of %s: PolicyPCR: %w", b.name(), err)
	}
	der, err := TrustedKeyBlob(b, primary.handle)
	if err != nil {
		flush(t, session)
		flush(t, primary.handle)
		return nil, err
	}
	return &TrustedUnseal{Parent: primary.handle, Session: session, KeyBlob: der}, nil
}

// Close flushes the primary key and, if the kernel did not consume it,
// the session.
func (u *TrustedUnseal) Close(t transport.TPM) {
	flush(t, u.Session)
	flush(t, u.Parent)
}
