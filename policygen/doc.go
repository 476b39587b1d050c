// Package policygen knows the IMA policy language as each kernel version
// parses it, so a policy can be judged before it is written to
// /sys/kernel/security/ima/policy, where a refused rule discards the whole
// policy and most kernels accept a policy only once per boot.
//
// In order, it:
//   - reads a policy file into rules (ReadPolicy): comments and blank lines
//     dropped, CRLF and NUL refused with their line, each rule keeping its
//     source position and its canonical text, the text written to the kernel;
//   - checks rules against one kernel version and, when known, its build
//     configuration (Check): every keyword, value format, duplicate, ordering
//     and func × action × condition rule that ima_parse_rule and
//     ima_validate_rule enforce, then warnings for rules that are legal but
//     surely unintended (shadowed rules, mask=MAY_READ, appraisal of pseudo
//     file systems or of the initramfs, LSM conditions in the initramfs,
//     alias names, an empty policy), then the bypass report (bypass.go):
//     the known ways around what the policy appraises of code;
//   - generates policies from profiles (Generate) and explains them in plain
//     words (Explain);
//   - gives the VM test a corpus of single rules (OracleCorpus), the verdict
//     it predicts for each (Predict), and a way to ask a running kernel for
//     its verdict without loading anything (JudgeRules).
//
// The grammar was learned by reading the kernel sources of Debian's
// linux-source-6.1 (6.1.192), linux-source-6.12 (6.12.117),
// linux-source-7.2 (7.2.13) and linux-source-7.3 (7.3.4, whose policy
// grammar is 7.2's), and of linux-6.6.y at 6.6.57 (no Debian package;
// its grammar is what the commit dates had placed at 6.6):
// security/integrity/ima/ima_policy.c,
// ima_fs.c (ima_write_policy), ima_template.c, lib/parser.c (match_token),
// lib/kstrtox.c, lib/uuid.c, crypto/hash_info.c, security/apparmor/audit.c
// and Documentation/ABI/testing/ima_policy. Versions between those were
// placed by the dates of the commits that changed the grammar; see
// grammar.go. Every per-release fact is in the dated tables of grammar.go
// (and the releases read in version.go); grammarOf resolves them for one
// release, so adding a release is an edit of those tables.
package policygen
