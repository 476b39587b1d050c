// Command imaboot-seal provisions the EVM master key: it creates a random
// master key sealed to TPM PCRs and the EVM key encrypted under it
// (init), re-seals the master key to new PCR values after an update
// (reseal), and reports what a boot would find (status).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/imaboot/imaboot/internal/cli"
)

const usage = `Usage: imaboot-seal COMMAND [flags]

Commands:
  init     create a random master key, seal it to TPM PCRs, create the EVM
           key (a kernel "encrypted" key) under it; write both blobs
  reseal   re-seal the existing master key to new PCR values; the EVM key
           blob is unchanged
  status   show the blobs, the PCR policy, and whether this TPM's PCRs
           match it

Flags (every command):
  --tpm PATH          TPM to use: a device (default /dev/tpmrm0) or
                      unix:SOCKET, the server socket of
                      "swtpm socket --server type=unixio,path=SOCKET"
  --sealed FILE       sealed master key blob (default /etc/keys/kmk.sealed)
  --evm-blob FILE     EVM key blob (default /etc/keys/evm-key.blob)

Flags (init, reseal):
  --pcrs LIST         PCRs to seal to, comma-separated (default 7, the
                      Secure Boot state); the lock PCR is always added
  --lock-pcr N        PCR the boot agent extends after unsealing, so the
                      blob cannot be unsealed again in that boot (default
                      13; -1 for none)
  --pcr-value N=HEX   seal PCR N to this predicted sha256 value instead of
                      its current one (repeatable)
  --pcr-values FILE   predicted values, one "N=HEX" (or "N: 0xHEX", as
                      tpm2_pcrread prints) per line; # starts a comment
  The lock PCR is sealed to all zeros (its value before the agent extends
  it) unless a value is given for it.

Flags (init, reseal):
  --passphrase-file FILE
                      recovery passphrase ("-": standard input). init also
                      seals the master key to this passphrase alone, so a
                      booted (locked) system can reseal; reseal then opens
                      the master key with it instead of the PCRs. Wrong
                      guesses count towards the TPM's lockout.

Flags (init):
  --force             overwrite existing blobs (the old EVM key is lost:
                      files labelled with its HMACs must be relabelled)
  --master-name NAME  kernel name of the master key (default kmk)
  --evm-key-len N     EVM key length in bytes (default 64)
  --master-type TYPE  how the boot gives the kernel the master key, the
                      MASTER_KEY_TYPE to configure: tpm (default:
                      imaboot-init unseals it and adds a user key) or
                      trusted (the kernel unseals it as a trusted key;
                      needs CONFIG_TRUSTED_KEYS, and --tpm /dev/tpm0
                      because the kernel uses real TPM handles). The EVM
                      key blob names the kernel key type (user or trusted).

Examples:
  imaboot-seal init
  imaboot-seal init --pcrs 7,14 --lock-pcr 13
  imaboot-seal --tpm unix:/var/lib/vm1/tpm/server.sock init --sealed out/kmk.sealed --evm-blob out/evm-key.blob
  imaboot-seal init --passphrase-file - < recovery.txt
  imaboot-seal reseal --passphrase-file - --pcr-values predicted.txt
  imaboot-seal reseal --pcr-value 7=3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969
  imaboot-seal status

reseal needs the master key. Without --passphrase-file it unseals it with
the PCRs, which works only while they hold the sealed values and the lock
PCR has not been extended in this boot (before imaboot-init locks). With
--passphrase-file it opens the recovery copy that init sealed to the
passphrase; the new blob keeps that copy.

Exit status: 0 done (status: the PCRs match the policy, or differ only by
this boot's lock); 1 failed (status: the next boot would not unseal: the
PCRs do not match the policy, or it is another TPM); 2 unusable input or
setup (a bad flag or PCR number, existing blobs without --force, a missing
or corrupt blob, a TPM that cannot be opened), found before anything was
changed. The same rule for every imaboot command: docs/command-line.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes: every imaboot command's (internal/cli). status exits
// exitFailed when the next boot would not unseal.
const (
	exitOK     = cli.ExitOK
	exitFailed = cli.ExitFailed
	exitUsage  = cli.ExitUsage
)

// run dispatches a command line and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	cmd, err := a.parse(args)
	if err == errHelp {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err != nil {
		return cli.UsageError(stderr, "imaboot-seal", "%s", cli.FlagError(err))
	}
	code, err := cmd()
	if err != nil {
		fmt.Fprintf(stderr, "imaboot-seal: %v\n", err)
	}
	return code
}
