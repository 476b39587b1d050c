package tpm

import (
	"testing"
	"time"
)

// BenchmarkUnseal times the boot's unseal step against swtpm and reports
// the TPM commands it sends (commands/op, flushes included; the goal is
// the five essential ones plus two flushes) and the time per command.
func BenchmarkUnseal(b *testing.B) {
	c := &Counter{TPM: startTPM(b)}
	blob, err := Seal(c, secret, SealOptions{})
	if err != nil {
		b.Fatal(err)
	}
	c.Reset()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		s, err := Unseal(c, blob, UnsealOptions{})
		if err != nil {
			b.Fatal(err)
		}
		clear(s)
	}
	elapsed := time.Since(start)
	n := len(c.Commands())
	b.ReportMetric(float64(n)/float64(b.N), "commands/op")
	b.ReportMetric(float64(elapsed.Microseconds())/float64(n), "µs/command")
	// Benchmark logs are always printed: `make bench` shows the list.
	var names []string
	for _, cc := range c.Commands()[:n/b.N] {
		names = append(names, CommandName(cc))
	}
	b.Logf("unseal path: %v", names)
}

// BenchmarkExtendLock is the lock step (one PCR_Extend).
func BenchmarkExtendLock(b *testing.B) {
	c := &Counter{TPM: startTPM(b)}
	for i := 0; i < b.N; i++ {
		if err := ExtendPCR(c, DefaultLockPCR, []byte(LockMeasurement)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(c.Commands()))/float64(b.N), "commands/op")
}
