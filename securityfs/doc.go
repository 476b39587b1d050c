// Package securityfs drives the kernel's IMA and EVM files under
// /sys/kernel/security, once per boot, and says exactly what the kernel
// answered.
//
// In boot order:
//   - EnableEVM computes the value for <securityfs>/evm from what was loaded
//     (HMAC bit only with the EVM key, X509 bit only with EVM certificates,
//     configured extra bits, setup-complete), writes it once and reads it
//     back; it refuses to enable EVM with no key at all.
//   - LoadPolicy writes an already-checked IMA policy to <securityfs>/ima/policy
//     in one open, one rule per write(2), or the policy file's absolute path
//     when the kernel requires a signed policy. On any failure it writes a
//     deliberately invalid rule before close(2), because close commits: the
//     kernel then loads nothing. It reports the failing rule, the errno and
//     the kernel's audit reason from /dev/kmsg, confirms the load (the policy
//     file disappears, loses its write bit, reads back, or the kernel logs
//     "policy update completed"), and leaves a marker under /run/imaboot so
//     the policy is never written twice in one boot.
//   - MeasurementCount and Measurements read the IMA measurement list for
//     reports.
//
// Everything the kernel does goes through FS: a root directory, an opener
// for write sessions and a kernel log reader, so tests run against
// temporary directories and a fake kernel.
package securityfs
