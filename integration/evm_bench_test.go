package integration

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkEVMUnseal reports, per kernel, how long the agent's master-key
// step takes in the VM (make bench; TCG, swtpm behind tpm-tis): open
// /dev/tpmrm0, unseal the blob provisioned in a first boot of the same
// machine, add the user key, extend the lock PCR. The commands the unseal
// sends are counted on the host by keyload/tpm's BenchmarkUnseal. The
// root's init then times imaboot-seal from the root: a Go process start
// alone (--help), CreatePrimary + PCR_Read (status), and the unseal path
// refused at Unseal by the lock PCR (reseal), to split the step's time.
func BenchmarkEVMUnseal(b *testing.B) {
	tools := evmTools(b)
	for _, k := range kernels {
		k := k
		b.Run(k.Short(), func(b *testing.B) {
			mc := newEVMMachine(b, k, tools, evmTestScript)
			keys := mc.provision(b)
			good := keys.initramfs(keys.sealed)
			// Without the agent: the same machine's first TPM use of a
			// boot (status), then two unseals (reseal), from the root.
			con := mc.finish(b, mc.boot(b, evmBoot{name: "firstuse", append: "evmtest=firstuse", withTPM: true}))
			b.ReportMetric(busyboxTime(b, con, "random"), "ms-root-first-dev-random")
			b.ReportMetric(busyboxTime(b, con, "status"), "ms-root-first-status")
			b.ReportMetric(busyboxTime(b, con, "first"), "ms-root-first-reseal")
			b.ReportMetric(busyboxTime(b, con, "second"), "ms-root-second-reseal")
			var step, ready, help, statusT, reseal float64
			for i := 0; i < b.N; i++ {
				m := mc.boot(b, evmBoot{name: fmt.Sprintf("bench%d", i), config: evmKeyConfig, append: "evmtest=bench", files: good, withTPM: true})
				st := status(b, m)
				con := mc.finish(b, m)
				if i == 0 {
					b.Logf("%s: kernel log of the agent's boot:\n%s", k.Release, strings.Join(regexp.MustCompile(`KMSG: .*`).FindAllString(con, -1), "\n"))
				}
				help += busyboxTime(b, con, "--help")
				statusT += busyboxTime(b, con, "status")
				reseal += busyboxTime(b, con, "reseal")
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
			b.ReportMetric(help/float64(b.N), "ms-root-seal-help")
			b.ReportMetric(statusT/float64(b.N), "ms-root-seal-status")
			b.ReportMetric(reseal/float64(b.N), "ms-root-unseal-refused")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// busyboxTime reads the "TIME-<name>: 0m 1.23s" line /test.sh printed, in ms.
func busyboxTime(b *testing.B, con, name string) float64 {
	b.Helper()
	sm := regexp.MustCompile(`TIME-` + regexp.QuoteMeta(name) + `:\s+(\d+)m\s+([0-9.]+)s`).FindStringSubmatch(con)
	if sm == nil {
		b.Fatalf("no time printed for imaboot-seal %s", name)
	}
	min, _ := strconv.ParseFloat(sm[1], 64)
	sec, _ := strconv.ParseFloat(sm[2], 64)
	return (min*60 + sec) * 1000
}
