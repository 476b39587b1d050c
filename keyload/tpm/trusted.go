package tpm

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
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
// the kernel's trusted keys accept.
var tss2SealedDataOID = asn1.ObjectIdentifier{2, 23, 133, 10, 1, 5}

type tss2Key struct {
	Type      asn1.ObjectIdentifier
	EmptyAuth bool `asn1:"explicit,tag:0,optional"`
	Parent    int64
	Pubkey    []byte // TPM2B_PUBLIC with its size
	Privkey   []byte // TPM2B_PRIVATE with its size
}

// TrustedKeyBlob encodes the blob's sealed object as the kernel's TPM 2.0
// trusted key blob, under the loaded parent key at handle parent.
func TrustedKeyBlob(b *Blob, parent tpm2.TPMHandle) ([]byte, error) {
	der, err := asn1.Marshal(tss2Key{
		Type:      tss2SealedDataOID,
		EmptyAuth: true,
		Parent:    int64(parent),
		Pubkey:    sized(b.Public),
		Privkey:   sized(b.Private),
	})
	if err != nil {
		return nil, fmt.Errorf("encode %s as a trusted key blob: %w", b.name(), err)
	}
	return der, nil
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
