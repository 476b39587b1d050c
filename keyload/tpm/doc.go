// Package tpm seals a secret (the EVM master key) to TPM 2.0 PCR values and
// unseals it at boot, leaving nothing behind in the TPM.
//
// Sealing (provisioning, [Seal]):
//   - create a transient ECC P-256 primary key under the owner hierarchy
//     (the TCG SRK template, so every boot re-derives the same key);
//   - compute a PolicyPCR digest over the selected sha256 PCRs, from values
//     read now or predicted by the caller;
//   - create a sealed data object under the primary whose only
//     authorization is that policy, sending the secret over a salted,
//     AES-128-CFB encrypted session;
//   - flush everything and return a [Blob], written to disk with [Blob.MarshalBinary].
//
// Unsealing (boot, [Unseal]) sends exactly CreatePrimary, Load,
// StartAuthSession (salted with the primary, response encryption),
// PolicyPCR and Unseal, then flushes the primary and the sealed object.
//
// Locking ([ExtendPCR], [DefaultLockPCR]): the lock PCR is part of every
// seal policy, so extending it after unsealing makes the blob unusable for
// the rest of the boot.
//
// Recovery ([SealOptions].RecoveryPassphrase, [UnsealRecovery]): an
// optional second copy opened by a passphrase alone, so a locked, booted
// system can reseal after an update. The boot path never uses it.
//
// Trusted keys ([PrepareTrustedUnseal], [TrustedKeyBlob]): on kernels
// with CONFIG_TRUSTED_KEYS the kernel unseals the same object itself.
//
// A TPM is a go-tpm transport.TPM: [Open] gives /dev/tpmrm0 or a swtpm
// server socket ("unix:PATH"); [Counter] counts the commands sent.
package tpm
