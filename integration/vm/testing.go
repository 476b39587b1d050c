package vm

import (
	"regexp"
	"testing"
	"time"
)

// StartT starts a machine for a test: the test fails if QEMU does not
// start, and at its end the machine is stopped and, when the test failed,
// its console is attached to the log under label.
func StartT(t testing.TB, label string, opts Options) *Machine {
	t.Helper()
	m, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Stop()
		if t.Failed() {
			t.Logf("console of the failed boot (%s):\n%s", label, m.Console())
		}
	})
	return m
}

// MustExpect is Expect that fails the test.
func (m *Machine) MustExpect(t testing.TB, re string, timeout time.Duration) []string {
	t.Helper()
	sm, err := m.Expect(regexp.MustCompile(re), timeout)
	if err != nil {
		t.Fatal(err)
	}
	return sm
}
