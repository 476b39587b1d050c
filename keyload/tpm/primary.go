package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// primaryKey is a transient primary key: its handle, name and public
// area (the salt is encrypted to it).
type primaryKey struct {
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	public tpm2.TPMTPublic
}

// createPrimary derives the TCG ECC P-256 storage root key from the owner
// seed. The same TPM gives the same key every time, so nothing is
// persisted; ECC because a TPM derives it in milliseconds where RSA takes
// seconds.
func createPrimary(t transport.TPM, ownerAuth []byte) (*primaryKey, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(ownerAuth)},
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("create primary key (owner hierarchy): %w", err)
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		flush(t, rsp.ObjectHandle)
		return nil, fmt.Errorf("create primary key: decode public area: %w", err)
	}
	return &primaryKey{handle: rsp.ObjectHandle, name: rsp.Name, public: *pub}, nil
}

// flush drops a transient object; errors are ignored because the
// resource manager (/dev/tpmrm0) flushes on close anyway.
func flush(t transport.TPM, h tpm2.TPMHandle) {
	tpm2.FlushContext{FlushHandle: h}.Execute(t)
}

// ParentMatches says whether this TPM derives the primary key b was
// sealed under (CreatePrimary, then FlushContext): false means the blob
// belongs to another TPM, or to this one before its owner was cleared.
func ParentMatches(t transport.TPM, b *Blob, opts UnsealOptions) (bool, error) {
	t = retrier{t}
	p, err := createPrimary(t, opts.OwnerAuth)
	if err != nil {
		return false, err
	}
	flush(t, p.handle)
	return string(p.name.Buffer) == string(b.ParentName), nil
}
