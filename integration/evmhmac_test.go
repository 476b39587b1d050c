package integration

import (
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
)

// evmStateInit prints EVM's state and the keys root's processes possess.
const evmStateInit = `echo "EVM-STATE=$(cat /sys/kernel/security/evm)"
echo "KEYS-BEGIN"; cat /proc/keys; echo "KEYS-END"
`

// TestEVMHMACUserMasterKey: with a plain master key file (MASTER_KEY_TYPE=
// user, dracut's "user" type) and an encrypted evm-key blob made on the
// host, the agent loads evm-key, enables EVM's HMAC bit with one write and
// drops both keys: after the switch /sys/kernel/security/evm reads 1 and
// neither key is in /proc/keys. On Debian's 6.1 with the bpf LSM active
// (the default lsm=) the agent refuses instead of letting the kernel crash
// on the next file it creates; with an lsm= list without bpf it boots.
func TestEVMHMACUserMasterKey(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		master, blob := relabelEVMKey(t)
		s := scenario{
			integrity: true,
			config:    "MIN_IMA_CERTS=0\nIMA_POLICY=\nMASTER_KEY_TYPE=user\nMASTER_KEY=/etc/keys/kmk\n",
			files:     map[string]string{"/etc/keys/kmk": master, "/etc/keys/evm-key.blob": blob},
			append:    "root=/dev/vda",
			root:      fixture.Root{Files: map[string]string{"/test.sh": "#!/bin/sh\n" + evmStateInit}},
		}
		if k.Short() == "6.1" {
			expectHalt(t, boot(t, k, s), "imaboot: error: enforce: step enable-evm failed: refusing the EVM HMAC key: Linux 6.1.0")
			s.append += " " + relabelNoBPFLSM
		}
		m := boot(t, k, s)
		expect(t, m, `imaboot: evm-key: evm-key loaded from /etc/keys/evm-key.blob; master key dropped`)
		expect(t, m, `imaboot: enable-evm: EVM enabled: wrote 0x80000001`)
		expect(t, m, `ROOTINIT-DONE`)
		con := m.Console()
		if !strings.Contains(con, "EVM-STATE=1\n") {
			t.Error("/sys/kernel/security/evm does not read 1 (HMAC) in the root")
		}
		keys := expect(t, m, `(?s)KEYS-BEGIN\n(.*)KEYS-END`)[1]
		for _, name := range []string{" kmk: ", " evm-key: "} {
			if strings.Contains(keys, name) {
				t.Errorf("key%s still in /proc/keys after the switch", name)
			}
		}
	})
}
