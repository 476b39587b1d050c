package securityfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// PolicyOptions tune LoadPolicy.
type PolicyOptions struct {
	// Path is the absolute path of the policy file the rules came from.
	// In signed-policy mode it is written instead of the rules, and the
	// kernel reads and appraises the file itself, so it must be reachable
	// from the kernel's root at the time of writing.
	Path string
	// Signed forces signed-policy mode.
	Signed bool
	// Lead are rules of the caller's own, written before the policy's in
	// rules mode (the boot agent's enforcement canary and break-glass
	// marker rules: first in the policy, so the first match is theirs).
	// They are not counted in PolicyResult.Rules nor in a RuleError's
	// Index; in signed mode they cannot be written (PolicyResult.Lead is 0).
	Lead []string
}

// PolicyResult says what was loaded and how the load was confirmed.
type PolicyResult struct {
	Mode      string // "rules" or "signed"
	SignedWhy string // why signed mode was used, "" in rules mode
	Rules     int    // the policy's rules written in rules mode
	// Lead is how many of PolicyOptions.Lead went in first (all of them
	// in rules mode, none in signed mode).
	Lead      int
	Confirmed string   // the evidence that the kernel took the policy
	Kernel    []string // integrity messages the kernel logged meanwhile
}

// Summary is one line for the console and the status file.
func (r PolicyResult) Summary() string {
	if r.Mode == "signed" {
		return fmt.Sprintf("IMA policy loaded from its signed file (%s); confirmed: %s", r.SignedWhy, r.Confirmed)
	}
	if r.Lead > 0 {
		return fmt.Sprintf("IMA policy loaded, %d rules (after %d of imaboot's own); confirmed: %s", r.Rules, r.Lead, r.Confirmed)
	}
	return fmt.Sprintf("IMA policy loaded, %d rules; confirmed: %s", r.Rules, r.Confirmed)
}

// abortRule is written before close(2) to abort a session: the kernel
// refuses it (unknown keyword) and then discards every rule of the
// session. It must never be a valid rule on any kernel.
const abortRule = "imaboot-abort-this-policy-load"

// RuleError is a write the kernel refused or cut short. Nothing was loaded:
// the session was aborted before close.
type RuleError struct {
	Index  int        // 0-based index of the rule in the rules given (or in Lead)
	Lead   bool       // the rule is one of PolicyOptions.Lead
	Rule   string     // the rule, or the policy file path in signed mode
	Signed bool       // Rule is a path written in signed-policy mode
	Policy string     // the securityfs policy file
	Errno  unix.Errno // 0 for a short write
	Wrote  int        // what write(2) returned for a short write
	Audit  []string   // the kernel's integrity messages about it
	Abort  string     // set when the abort itself misbehaved
	Err    error
}

func (e *RuleError) Error() string {
	var b strings.Builder
	switch {
	case e.Signed:
		fmt.Fprintf(&b, "IMA policy: writing the signed policy path %q to %s", e.Rule, e.Policy)
	case e.Lead:
		fmt.Fprintf(&b, "IMA policy: imaboot's own rule %q, written before the policy's", e.Rule)
	default:
		fmt.Fprintf(&b, "IMA policy rule %d %q", e.Index+1, e.Rule)
	}
	fmt.Fprintf(&b, ": %s", e.verdict())
	switch {
	case e.wantsSigned() && !e.Signed:
		b.WriteString(" (the kernel requires a signed policy: give the policy file's absolute path)")
	case e.Signed && e.Errno == unix.EACCES:
		b.WriteString(" (the kernel appraised the policy file and refused it: check its security.ima signature and the IMA keyring)")
	case e.Signed && (e.Errno == unix.ENOENT || e.Errno == unix.ENOTDIR):
		b.WriteString(" (the kernel cannot open that path from its current root)")
	}
	if reason := e.Reason(); reason != "" {
		fmt.Fprintf(&b, "; kernel: %s", reason)
	} else {
		b.WriteString("; no audit record in the kernel log")
	}
	if e.Abort != "" {
		fmt.Fprintf(&b, "; abort: %s", e.Abort)
	}
	b.WriteString("; nothing loaded")
	return b.String()
}

func (e *RuleError) Unwrap() error { return e.Err }

func (e *RuleError) verdict() string {
	if e.Errno != 0 {
		return "refused with " + errnoText(e.Errno)
	}
	return fmt.Sprintf("short write, the kernel took %d of %d bytes", e.Wrote, len(e.Rule)+1)
}

// wantsSigned: EACCES, or 0 bytes taken (a kernel that requires a signed
// policy but does not enforce appraisal ignores rules).
func (e *RuleError) wantsSigned() bool {
	return e.Errno == unix.EACCES || (e.Errno == 0 && e.Wrote == 0)
}

// Reason picks the kernel messages that explain the refusal: the refused
// rule's audit record (type=1807 … res=0), a signed-policy demand, the
// kernel's own "ima:" error lines. The generic status records that every
// refusal and our abort add (type=1802 cause=invalid-policy, cause=failed)
// are shown only when nothing more specific was logged.
func (e *RuleError) Reason() string {
	var specific, generic []string
	seen := map[string]bool{}
	for _, m := range e.Audit {
		key := blankAuditStamps(m)
		if seen[key] || strings.Contains(m, abortRule) || strings.Contains(m, abortPath) ||
			strings.Contains(m, "res=1") || strings.Contains(m, "policy update") ||
			(e.Signed && strings.Contains(m, "signed policy")) { // the abort rule's answer
			continue
		}
		seen[key] = true // the abort write repeats some messages
		switch {
		case strings.Contains(m, "type=1807"), strings.Contains(m, "type=1800"), strings.Contains(m, "signed policy"),
			strings.HasPrefix(m, "ima: "), strings.HasPrefix(m, "IMA: "):
			specific = append(specific, m)
		case strings.Contains(m, "cause=failed"), strings.Contains(m, `cause="failed"`):
		default:
			generic = append(generic, m)
		}
	}
	if len(specific) > 0 {
		return strings.Join(specific, " | ")
	}
	if len(generic) > 0 {
		return generic[0]
	}
	return ""
}

// blankAuditStamps replaces each "audit(time:serial)" part, which differs
// between two otherwise equal records, with "audit()": what
// regexp `audit\([0-9.:]+\)` would match, scanned by hand (regexp is a
// tenth of a megabyte of imaboot-init).
func blankAuditStamps(m string) string {
	const open = "audit("
	var b strings.Builder
	for {
		i := strings.Index(m, open)
		if i < 0 {
			break
		}
		j := i + len(open)
		for j < len(m) && (m[j] >= '0' && m[j] <= '9' || m[j] == '.' || m[j] == ':') {
			j++
		}
		if j == i+len(open) || j == len(m) || m[j] != ')' {
			b.WriteString(m[:i+len(open)])
			m = m[i+len(open):]
			continue
		}
		b.WriteString(m[:i])
		b.WriteString("audit()")
		m = m[j+1:]
	}
	b.WriteString(m)
	return b.String()
}

// LoadPolicy loads an IMA policy whose rules were already checked and are
// in canonical form (no comments, no blank lines, no CR), all in one open
// of <Root>/ima/policy:
//   - refuses if the policy was already written this boot (marker under
//     StateDir) or the policy file is gone;
//   - in signed-policy mode (opts.Signed, an `appraise func=POLICY_CHECK`
//     rule in rules, ima_policy=secure_boot on the command line, or such a
//     rule in a readable active policy) writes opts.Path instead of rules;
//   - else writes each rule with its "\n" in its own write(2); on the
//     first refusal or short write, writes abortRule and closes, so the
//     kernel loads nothing, and returns a *RuleError with the audit reason.
//     An EACCES on the first rule (the kernel requires a signed policy)
//     falls back to signed mode when opts.Path is set;
//   - confirms the load.
func LoadPolicy(fs FS, rules []string, opts PolicyOptions) (PolicyResult, error) {
	policy := fs.path("ima", "policy")
	if err := checkRuleLines(rules); err != nil {
		return PolicyResult{}, err
	}
	if len(opts.Lead) > 0 {
		if err := checkRuleLines(opts.Lead); err != nil {
			return PolicyResult{}, fmt.Errorf("imaboot's own rules: %w", err)
		}
	}
	if err := policyFilePresent(fs, policy); err != nil {
		return PolicyResult{}, err
	}
	res := PolicyResult{Mode: "rules"}
	if signed, why := fs.signedPolicyMode(policy, rules, opts); signed {
		res.Mode, res.SignedWhy = "signed", why
	}
	if res.Mode == "signed" && !filepath.IsAbs(opts.Path) {
		return res, fmt.Errorf("IMA policy: signed-policy mode (%s) needs the policy file's absolute path, got %q", res.SignedWhy, opts.Path)
	}
	if err := fs.markerBegin(res.Mode); err != nil {
		return res, err
	}

	log, logErr := fs.openKernelLog()
	if logErr == nil {
		defer log.Close()
	}

	outcome, err := fs.policySession(policy, res, opts.Lead, rules, opts.Path, log)
	var re *RuleError
	if res.Mode == "rules" && opts.Path != "" && errors.As(err, &re) && re.Index == 0 && (re.Lead || len(opts.Lead) == 0) && re.wantsSigned() {
		res.Mode, res.SignedWhy = "signed", "the kernel refused the first rule ("+re.verdict()+"): it requires a signed policy"
		outcome, err = fs.policySession(policy, res, nil, rules, opts.Path, log)
	}
	if errors.As(err, &re) && outcome == markAborted && re.Errno != 0 && !refusalExplained(re.Audit) {
		fs.retellRefusal(policy, re, log)
	}
	if err != nil {
		if outcome == "" {
			fs.markerDrop()
		} else {
			fs.markerEnd(outcome, res.Mode)
		}
		if logErr != nil {
			err = fmt.Errorf("%w (kernel log unavailable: %v)", err, logErr)
		}
		return res, err
	}
	written := rules
	if res.Mode == "rules" {
		res.Rules = len(rules)
		res.Lead = len(opts.Lead)
		written = append(append([]string(nil), opts.Lead...), rules...)
	}

	res.Confirmed, res.Kernel, err = fs.confirmPolicy(policy, written, log)
	if err != nil {
		fs.markerEnd(markWriting, "unconfirmed")
		return res, err
	}
	if err := fs.markerEnd(markLoaded, res.Mode); err != nil {
		return res, err
	}
	return res, nil
}

// policySession is one open/write…/close of the policy file: in rules
// mode the lead rules, then the rules; in signed mode the path. On error,
// outcome is the marker state to record: "" when nothing reached the
// kernel, markAborted when the session was aborted, markWriting when
// whether the kernel loaded it is unknown.
func (fs FS) policySession(policy string, res PolicyResult, lead, rules []string, path string, log KernelLog) (outcome string, err error) {
	lines := append(append([]string(nil), lead...), rules...)
	if res.Mode == "signed" {
		lead, lines = nil, []string{path}
	}
	w, err := fs.openWriter(policy)
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return "", fmt.Errorf("IMA policy: %w: another process has the policy file open for writing (the kernel allows one writer)", err)
		}
		return "", fmt.Errorf("IMA policy: %w", err)
	}
	for i, line := range lines {
		data := []byte(line + "\n")
		n, werr := w.Write(data)
		// The kernel returns strlen(rule)+1: len(data) with the newline.
		// More is harmless, less means it parsed a truncated rule.
		if werr == nil && n >= len(data) {
			continue
		}
		re := &RuleError{Index: i, Rule: line, Signed: res.Mode == "signed", Policy: policy, Err: werr}
		if i < len(lead) {
			re.Lead = true
		} else {
			re.Index -= len(lead)
		}
		if werr != nil {
			var errno unix.Errno
			if errors.As(werr, &errno) {
				re.Errno = errno
			}
		} else {
			re.Wrote = n
			re.Err = fmt.Errorf("short write: %d of %d bytes", n, len(data))
		}
		re.Abort = abortSession(w)
		re.Audit = collectAudit(log, fs.auditWait(), refusalExplained)
		if re.Abort != "" {
			return markWriting, re
		}
		return markAborted, re
	}
	if err := w.Close(); err != nil {
		return markWriting, fmt.Errorf("IMA policy: close (commit) %s: %s; whether the kernel loaded the policy is unknown", policy, errnoText(err))
	}
	return "", nil
}

// retellRefusal writes a refused rule again, alone, in a session of its
// own, to get the kernel's audit record for it: each rule written logs one
// record, and past printk's rate limit (10 per 5 s by default) the refused
// rule's record is dropped. Raising the limit for every load cost two
// sysctl writes on the boot's critical path; it is raised only here, on
// the failure path. Called only after a clean abort (nothing loaded); the
// retold session is aborted the same way.
func (fs FS) retellRefusal(policy string, re *RuleError, log KernelLog) {
	if log == nil {
		return
	}
	// The rules before it, the refusal and the aborts logged that many.
	defer fs.raiseAuditBurst(3*(re.Index+1) + 20)()
	w, err := fs.openWriter(policy)
	if err != nil {
		return
	}
	// Taken alone (refused only in the company of the others), there is
	// nothing to collect; the session is aborted either way.
	data := []byte(re.Rule + "\n")
	if n, err := w.Write(data); err != nil || n < len(data) {
		re.Audit = append(re.Audit, collectAudit(log, fs.auditWait(), refusalExplained)...)
	}
	if note := abortSession(w); note != "" {
		re.Abort = "retelling the refused rule: " + note
	}
}

// abortPath is written when the abort rule was not refused: a kernel
// that requires a signed policy without enforcing appraisal ignores rules
// (write returns 0) but fails on a path it cannot open, and any failure
// marks the session invalid. /dev/null is not a directory, so this path
// can never exist.
const abortPath = "/dev/null/imaboot-abort-this-policy-load"

// abortSession makes sure close(2) loads nothing: close commits every rule
// written since open unless a write failed, so write one that fails. Any
// error will do (the kernel marks the session invalid on every failed
// write); if neither the rule nor the path fails, close may commit.
func abortSession(w Writer) string {
	var note string
	if _, err := w.Write([]byte(abortRule + "\n")); err == nil {
		if n, err := w.Write([]byte(abortPath + "\n")); err == nil {
			note = fmt.Sprintf("the kernel refused neither the abort rule nor the abort path (write returned %d): close may have committed the rules written before", n)
		}
	}
	if err := w.Close(); err != nil {
		note = strings.TrimPrefix(note+"; close: "+errnoText(err), "; ")
	}
	return note
}

// refusalExplained: stop waiting once the kernel's reason is in.
func refusalExplained(msgs []string) bool {
	for _, m := range msgs {
		if strings.Contains(m, abortRule) {
			continue
		}
		if (strings.Contains(m, "type=1807") && strings.Contains(m, "res=0")) ||
			(strings.Contains(m, "type=1802") && strings.Contains(m, "signed policy")) ||
			strings.Contains(m, "Unable to open file") {
			return true
		}
	}
	return false
}

// checkRuleLines refuses what the kernel would misparse: each rule must be
// one non-empty line, without CR or comment, shorter than a page (the
// kernel reads at most PAGE_SIZE-1 bytes per write).
func checkRuleLines(rules []string) error {
	if len(rules) == 0 {
		return errors.New("IMA policy: no rules to write")
	}
	limit := unix.Getpagesize() - 1
	for i, r := range rules {
		switch {
		case strings.TrimSpace(r) == "":
			return fmt.Errorf("IMA policy rule %d is empty", i+1)
		case strings.ContainsAny(r, "\r\n"):
			return fmt.Errorf("IMA policy rule %d %q holds a line break or CR", i+1, r)
		case strings.HasPrefix(strings.TrimSpace(r), "#"):
			return fmt.Errorf("IMA policy rule %d %q is a comment", i+1, r)
		case len(r)+1 > limit:
			return fmt.Errorf("IMA policy rule %d is %d bytes: the kernel reads at most %d per write", i+1, len(r)+1, limit)
		}
	}
	return nil
}

// policyFilePresent tells a kernel without IMA from a policy that was
// already loaded (without CONFIG_IMA_WRITE_POLICY the file goes away).
func policyFilePresent(fs FS, policy string) error {
	_, err := os.Stat(policy)
	if err == nil {
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("IMA policy: %w", err)
	}
	if _, derr := os.Stat(filepath.Dir(policy)); derr != nil {
		return fmt.Errorf("IMA policy: kernel has no IMA (or securityfs is not mounted): %s: %w", filepath.Dir(policy), derr)
	}
	return fmt.Errorf("IMA policy: %s is gone: a policy was already loaded this boot (the kernel removes the file after the first load): %w", policy, err)
}
