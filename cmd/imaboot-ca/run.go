package main

import (
	"fmt"
	"io"

	"github.com/imaboot/imaboot/internal/cli"
	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/ownerca"
)

const (
	prog       = "imaboot-ca"
	exitOK     = cli.ExitOK
	exitFailed = cli.ExitFailed
	exitUsage  = cli.ExitUsage
)

// flags are every subcommand's flags; each subcommand checks the ones it needs.
type flags struct {
	subject, out, ca, caKey, keyID string
	bits, days                     int
	args                           []string
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, "no command")
	}
	cmd := args[0]
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fs := cli.NewFlagSet(prog + " " + cmd)
	var f flags
	fs.StringVar(&f.subject, "subject", "", "")
	fs.StringVar(&f.out, "o", "", "")
	fs.StringVar(&f.ca, "ca", "", "")
	fs.StringVar(&f.caKey, "ca-key", "", "")
	fs.StringVar(&f.keyID, "key-id", "", "")
	fs.IntVar(&f.bits, "bits", 0, "")
	fs.IntVar(&f.days, "days", 0, "")
	operands, code, done := cli.Parse(fs, args[1:], usage, stdout, stderr)
	if done {
		return code
	}
	f.args = operands
	c := command{stdout: stdout, stderr: stderr}
	switch cmd {
	case "new":
		return c.newCA(f)
	case "issue":
		return c.issue(f)
	case "verify":
		return c.verify(f)
	case "enroll":
		return c.enroll(f)
	case "check":
		return c.check(f)
	}
	return usageError(stderr, fmt.Sprintf("unknown command %q", cmd))
}

type command struct{ stdout, stderr io.Writer }

func (c command) fail(code int, err error) int {
	cli.Errorf(c.stderr, prog, "%v", err)
	return code
}

func (c command) newCA(f flags) int {
	if f.subject == "" || len(f.args) != 0 || f.ca != "" || f.caKey != "" || f.keyID != "" {
		return usageError(c.stderr, "new takes --subject, and -o, --bits, --days")
	}
	if f.out == "" {
		f.out = "owner-ca"
	}
	ca, err := ownerca.NewCA(ownerca.Options{Subject: f.subject, Bits: f.bits, Days: f.days})
	if err != nil {
		return c.fail(exitUsage, err)
	}
	files, err := ca.Write(f.out)
	if err != nil {
		return c.fail(exitUsage, err)
	}
	fmt.Fprintf(c.stdout, "made the owner's CA %q\n  key id:      %s\n  certificate: %s, %s\n  private key: %s (keep it offline: whoever holds it decides what runs)\n\n", f.subject, ownerca.KeyID(ca.Cert), files.PEM, files.DER, files.Key)
	fmt.Fprintf(c.stdout, "Next: imaboot-ca issue --ca %s --ca-key %s --subject NAME -o release\n\n", files.PEM, files.Key)
	fmt.Fprint(c.stdout, ownerca.EnrollSteps(files.DER, ca.Cert))
	return exitOK
}

func (c command) issue(f flags) int {
	if f.subject == "" || f.ca == "" || f.caKey == "" || len(f.args) != 0 || f.keyID != "" {
		return usageError(c.stderr, "issue takes --ca, --ca-key and --subject, and -o, --bits, --days")
	}
	if f.out == "" {
		f.out = "release"
	}
	ca, err := ownerca.LoadCA(f.ca, f.caKey)
	if err != nil {
		return c.fail(exitUsage, err)
	}
	rel, err := ownerca.Issue(ca, ownerca.Options{Subject: f.subject, Bits: f.bits, Days: f.days})
	if err != nil {
		return c.fail(exitUsage, err)
	}
	if findings := ownerca.Verify(ca.Cert, rel.Cert); findings.Err() != nil {
		return c.fail(exitFailed, findings.Err()) // a bug here, never the owner's input
	}
	files, err := rel.Write(f.out)
	if err != nil {
		return c.fail(exitUsage, err)
	}
	certs, err := keyload.ParseCertificates(files.DER, rel.Cert.Raw)
	if err != nil {
		return c.fail(exitFailed, err)
	}
	fmt.Fprintf(c.stdout, "made the release certificate %q, signed by %q\n  certificate: %s, %s\n  private key: %s\n  key id of its signatures: %s\n\n", f.subject, ca.Cert.Subject.CommonName, files.PEM, files.DER, files.Key, certs[0].KeyID)
	fmt.Fprintf(c.stdout, "Sign with it: imaboot-debsign --key %s --cert %s ...; ship it: imaboot-debsign keypkg --cert %s --ca %s ...\n", files.Key, files.PEM, files.PEM, f.ca)
	return exitOK
}

func (c command) verify(f flags) int {
	if f.ca == "" || len(f.args) == 0 {
		return usageError(c.stderr, "verify takes --ca and one or more certificates")
	}
	ca, err := ownerca.LoadCertificate(f.ca)
	if err != nil {
		return c.fail(exitUsage, err)
	}
	code := exitOK
	for _, p := range f.args {
		cert, err := ownerca.LoadCertificate(p)
		if err != nil {
			return c.fail(exitUsage, err)
		}
		findings := ownerca.Verify(ca, cert)
		for _, w := range findings.Warnings {
			fmt.Fprintf(c.stdout, "%s: warning: %s\n", p, w)
		}
		if err := findings.Err(); err != nil {
			fmt.Fprintf(c.stdout, "%s: REFUSED: %v\n", p, err)
			code = exitFailed
			continue
		}
		fmt.Fprintf(c.stdout, "%s: %q signed by the CA %q (key id %s): the kernel will accept it under TRUST=ca\n", p, cert.Subject.CommonName, ca.Subject.CommonName, ownerca.KeyID(ca))
	}
	return code
}

func (c command) enroll(f flags) int {
	if f.ca == "" || len(f.args) != 0 {
		return usageError(c.stderr, "enroll takes --ca")
	}
	ca, err := ownerca.LoadCertificate(f.ca)
	if err != nil {
		return c.fail(exitUsage, err)
	}
	if !ca.IsCA || len(ca.SubjectKeyId) == 0 {
		return c.fail(exitUsage, fmt.Errorf("%s is not a CA certificate with a SubjectKeyIdentifier", f.ca))
	}
	fmt.Fprint(c.stdout, ownerca.EnrollSteps(f.ca, ca))
	return exitOK
}

func (c command) check(f flags) int {
	if (f.keyID == "") == (f.ca == "") || len(f.args) != 0 {
		return usageError(c.stderr, "check takes --key-id or --ca")
	}
	id := f.keyID
	if f.ca != "" {
		ca, err := ownerca.LoadCertificate(f.ca)
		if err != nil {
			return c.fail(exitUsage, err)
		}
		id = ownerca.KeyID(ca)
	}
	id, err := keyload.NormalizeKeyID(id)
	if err != nil {
		return c.fail(exitUsage, err)
	}
	s := ownerca.Check(ownerca.ThisMachine, id)
	for _, l := range s.Lines {
		fmt.Fprintln(c.stdout, l)
	}
	if len(s.Problems) > 0 {
		fmt.Fprintf(c.stdout, "NOT READY: %d problem(s); TRUST=ca would stop the boot\n", len(s.Problems))
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "READY: with these lines in /etc/imaboot/imaboot.conf, _ima takes only what the CA signed:\nTRUST=ca\nTRUST_CA=%s\n", id)
	return exitOK
}

func usageError(stderr io.Writer, msg string) int {
	return cli.UsageError(stderr, prog, "%s", msg)
}
