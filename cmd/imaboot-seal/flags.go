package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/keyload/tpm"
)

var errHelp = errors.New("help")

// maxPCRs is the number of PCRs a PC Client TPM 2.0 has (0 to 23).
const maxPCRs = 24

// app holds the parsed command line and where output goes.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	tpmPath    string
	sealed     string
	evmBlob    string
	pcrs       string
	lockPCR    int
	pcrValue   multiFlag
	pcrFile    string
	force      bool
	masterName string
	evmKeyLen  int
	passFile   string
	masterType string
	set        map[string]bool // flags given on the command line
}

func (a *app) flagSet(name string) bool { return a.set[name] }

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// flagsFor lists the flags each command takes beyond the common ones.
var flagsFor = map[string][]string{
	"init":   {"pcrs", "lock-pcr", "pcr-value", "pcr-values", "force", "master-name", "evm-key-len", "passphrase-file", "master-type"},
	"reseal": {"pcrs", "lock-pcr", "pcr-value", "pcr-values", "passphrase-file"},
	"status": {},
}

// parse reads flags before and after the command word and returns the
// command to run.
func (a *app) parse(args []string) (func() (int, error), error) {
	fs := flag.NewFlagSet("imaboot-seal", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.tpmPath, "tpm", tpm.DefaultDevice, "")
	fs.StringVar(&a.sealed, "sealed", "/etc/keys/kmk.sealed", "")
	fs.StringVar(&a.evmBlob, "evm-blob", "/etc/keys/evm-key.blob", "")
	fs.StringVar(&a.pcrs, "pcrs", "", "")
	fs.IntVar(&a.lockPCR, "lock-pcr", tpm.DefaultLockPCR, "")
	fs.Var(&a.pcrValue, "pcr-value", "")
	fs.StringVar(&a.pcrFile, "pcr-values", "", "")
	fs.BoolVar(&a.force, "force", false, "")
	fs.StringVar(&a.masterName, "master-name", keyload.DefaultMasterKeyName, "")
	fs.IntVar(&a.evmKeyLen, "evm-key-len", keyload.DefaultEVMKeyLen, "")
	fs.StringVar(&a.passFile, "passphrase-file", "", "")
	fs.StringVar(&a.masterType, "master-type", string(keyload.MasterKeyTPM), "")
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *help {
		return nil, errHelp
	}
	if fs.NArg() == 0 {
		return nil, errors.New("no command (init, reseal or status)")
	}
	name := fs.Arg(0)
	allowed, ok := flagsFor[name]
	if !ok {
		return nil, fmt.Errorf("unknown command %q", name)
	}
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return nil, err
	}
	if *help {
		return nil, errHelp
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	var bad error
	a.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		a.set[f.Name] = true
		switch f.Name {
		case "tpm", "sealed", "evm-blob", "help", "h":
			return
		}
		if !contains(allowed, f.Name) && bad == nil {
			bad = fmt.Errorf("%s does not take --%s", name, f.Name)
		}
	})
	if bad != nil {
		return nil, bad
	}
	switch name {
	case "init":
		return a.init, nil
	case "reseal":
		return a.reseal, nil
	default:
		return a.status, nil
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sealOptions turns --pcrs, --lock-pcr, --pcr-value and --pcr-values
// into tpm.SealOptions.
func (a *app) sealOptions() (tpm.SealOptions, error) {
	o := tpm.SealOptions{LockPCR: a.lockPCR}
	switch {
	case a.lockPCR == -1:
	case a.lockPCR == 0:
		return o, errors.New("--lock-pcr 0: PCR 0 is the firmware's")
	case a.lockPCR < -1 || a.lockPCR >= maxPCRs:
		return o, fmt.Errorf("--lock-pcr %d: want a PCR from 1 to %d, or -1 for none", a.lockPCR, maxPCRs-1)
	}
	if a.pcrs != "" {
		for _, f := range strings.Split(a.pcrs, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return o, fmt.Errorf("--pcrs %q: %q is not a PCR number", a.pcrs, f)
			}
			if n < 0 || n >= maxPCRs {
				return o, fmt.Errorf("--pcrs %q: PCR %d does not exist (a TPM 2.0 has PCRs 0 to %d)", a.pcrs, n, maxPCRs-1)
			}
			o.PCRs = append(o.PCRs, n)
		}
	}
	values := map[int][]byte{}
	if a.pcrFile != "" {
		if err := readPCRValuesFile(a.pcrFile, values); err != nil {
			return o, err
		}
	}
	for _, v := range a.pcrValue {
		if err := parsePCRValue(v, values); err != nil {
			return o, fmt.Errorf("--pcr-value: %w", err)
		}
	}
	if len(values) > 0 {
		o.PCRValues = values
	}
	return o, nil
}

// readPassphrase reads --passphrase-file ("-" is standard input), without
// its trailing newline. The caller clears it.
func (a *app) readPassphrase() ([]byte, error) {
	var data []byte
	var err error
	if a.passFile == "-" {
		data, err = io.ReadAll(a.stdin)
	} else {
		data, err = os.ReadFile(a.passFile)
	}
	if err != nil {
		return nil, fmt.Errorf("--passphrase-file: %w", err)
	}
	p := bytes.TrimRight(data, "\r\n")
	if len(p) == 0 {
		clear(data)
		return nil, fmt.Errorf("--passphrase-file %s: empty passphrase", a.passFile)
	}
	return p, nil
}
