// Package ownerca is the owner's side of imaboot's trust chain (TRUST=ca):
// firmware → shim → the owner's CA, enrolled as a Machine Owner Key →
// the kernel's .machine keyring → _ima → a signed file.
//
// In order of use:
//   - NewCA makes the owner's CA (ca.go): an RSA key and a self-signed
//     certificate that may sign certificates and nothing else;
//   - Issue makes a release certificate signed by it (ca.go): the key that
//     signs files and packages (imaboot-debsign, imaboot-relabel); Verify
//     checks that a certificate, made here or elsewhere, is one the kernel
//     will accept under TRUST=ca (verify.go);
//   - EnrollSteps are what the owner does on each machine, once: mokutil
//     --import, MokManager at the next boot, then Check (enroll.go);
//   - Check reads, on the machine, what the firmware and the kernel say:
//     Secure Boot on, shim's MokListTrustedRT set, the CA in .machine
//     (check.go).
//
// A new release certificate under the same CA needs no step on the
// machines' firmware: only the initramfs changes.
package ownerca
