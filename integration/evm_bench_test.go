package integration

import (
	"fmt"
	"testing"
)

// BenchmarkEVMUnseal reports, per kernel, how long the agent's master-key
// step takes in the VM (make bench; TCG, swtpm behind tpm-tis): open
// /dev/tpmrm0, unseal the blob provisioned in a first boot of the same
// machine, add the user key, extend the lock PCR. The commands the unseal
// sends are counted on the host by keyload/tpm's BenchmarkUnseal.
func BenchmarkEVMUnseal(b *testing.B) {
	tools := evmTools(b)
	for _, k := range kernels {
		k := k
		b.Run(k.Short(), func(b *testing.B) {
			mc := newEVMMachine(b, k, tools, evmTestScript)
			mc.finish(b, mc.boot(b, evmBoot{name: "provision", append: "rw evmtest=provision", withTPM: true}))
			keys := mc.dumpKeys(b)
			good := keys.initramfs(keys.sealed)
			var step, ready float64
			for i := 0; i < b.N; i++ {
				m := mc.boot(b, evmBoot{name: fmt.Sprintf("bench%d", i), config: evmKeyConfig, append: "evmtest=bench", files: good, withTPM: true})
				st := status(b, m)
				mc.finish(b, m)
				if stepResult(st, "master-key") != "ok" {
					b.Fatalf("master-key step: %+v", st.Steps)
				}
				for _, s := range st.Steps {
					if s.Name == "master-key" {
						step += s.DurationMS
					}
				}
				ready += st.ReadyMS
			}
			b.ReportMetric(step/float64(b.N), "ms-master-key-step")
			b.ReportMetric(ready/float64(b.N), "ms-init-to-ready")
			b.ReportMetric(0, "ns/op")
		})
	}
}
