package tpm

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// Counter (a test helper) wraps a TPM and records the command code of every command sent
// through it, so a benchmark or test can prove what a path asks of the TPM.
type Counter struct {
	TPM transport.TPM

	mu       sync.Mutex
	commands []tpm2.TPMCC
}

// Send forwards cmd and records its command code.
func (c *Counter) Send(cmd []byte) ([]byte, error) {
	if len(cmd) >= tpmHeaderSize {
		c.mu.Lock()
		c.commands = append(c.commands, tpm2.TPMCC(binary.BigEndian.Uint32(cmd[6:10])))
		c.mu.Unlock()
	}
	return c.TPM.Send(cmd)
}

// Commands returns the command codes sent since the last Reset, in order.
func (c *Counter) Commands() []tpm2.TPMCC {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]tpm2.TPMCC(nil), c.commands...)
}

// Reset forgets the recorded commands.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.commands = nil
	c.mu.Unlock()
}

// CommandName names a command code for reports ("Unseal", "PolicyPCR").
func CommandName(cc tpm2.TPMCC) string {
	if n, ok := commandNames[cc]; ok {
		return n
	}
	return fmt.Sprintf("0x%08x", uint32(cc))
}

var commandNames = map[tpm2.TPMCC]string{
	tpm2.TPMCCCreatePrimary:    "CreatePrimary",
	tpm2.TPMCCCreate:           "Create",
	tpm2.TPMCCLoad:             "Load",
	tpm2.TPMCCStartAuthSession: "StartAuthSession",
	tpm2.TPMCCPolicyPCR:        "PolicyPCR",
	tpm2.TPMCCUnseal:           "Unseal",
	tpm2.TPMCCFlushContext:     "FlushContext",
	tpm2.TPMCCPCRExtend:        "PCR_Extend",
	tpm2.TPMCCPCRRead:          "PCR_Read",
	tpm2.TPMCCGetCapability:    "GetCapability",
	tpm2.TPMCCReadPublic:       "ReadPublic",
}
