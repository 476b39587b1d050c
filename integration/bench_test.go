package integration

import (
	"testing"
)

// BenchmarkBoot reports, per kernel, the agent's own timings from its
// status file: /init start to root mounted, and to ready to switch
// (make bench; TCG, so absolute numbers are those of an emulated CPU).
func BenchmarkBoot(b *testing.B) {
	for _, k := range kernels {
		k := k
		b.Run(k.Short(), func(b *testing.B) {
			var mounted, ready float64
			for i := 0; i < b.N; i++ {
				m := boot(b, k, scenario{append: "root=LABEL=" + rootLabel})
				st := status(b, m)
				m.Stop()
				mounted += st.RootMountedMS
				ready += st.ReadyMS
			}
			b.ReportMetric(mounted/float64(b.N), "ms-init-to-root-mounted")
			b.ReportMetric(ready/float64(b.N), "ms-init-to-ready")
			b.ReportMetric(0, "ns/op")
		})
	}
}
