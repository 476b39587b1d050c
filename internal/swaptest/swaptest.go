// Package swaptest is for tests of tools that must not be led out of a
// tree: it exchanges two names (renameat2 RENAME_EXCHANGE) in a loop, as an
// attacker swapping a directory for a symlink would, while the test runs
// the tool.
package swaptest

import (
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Loop exchanges a and b until the returned stop is called; stop waits for
// the loop to end and returns how many exchanges it made.
func Loop(t testing.TB, a, b string) (stop func() int64) {
	var n atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
				t.Errorf("renameat2 %s %s RENAME_EXCHANGE: %v", a, b, err)
				return
			}
			n.Add(1)
		}
	}()
	return func() int64 {
		done.Store(true)
		wg.Wait()
		return n.Load()
	}
}
