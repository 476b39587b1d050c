// Package keyload puts keys into the kernel's keyrings at boot.
//
// For certificates, in order:
//   - the keyring IMA or EVM verifies signatures with is the kernel's trusted
//     .ima/.evm when it has them (TrustedKeyring, a read of /proc/keys),
//     else _ima/_evm in the user keyring, created if missing
//     (OpenFallbackKeyring);
//   - ReadCertificates reads every file of a directory as DER or PEM (a PEM
//     file may hold several certificates) with a small strict DER reader of
//     its own (der*.go; no crypto/x509 in the boot agent) and works out the
//     key id the kernel will match signatures against; CertSet.Load adds each
//     certificate as an asymmetric key, reporting file, subject, key id and
//     the kernel's answer. The two halves are apart so the agent can read
//     while it waits for the root;
//   - CertReport.MinLoaded turns "no certificate loaded" into an error.
//
// The master key and the EVM key (masterkey.go, evmkey.go, and the tpm
// subpackage) load the secrets EVM's HMAC needs.
//
// Kernel effects go through add_key/keyctl on the keyring passed in, so tests
// run in a throw-away session keyring.
package keyload
