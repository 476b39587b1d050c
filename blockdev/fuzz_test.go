package blockdev

import "testing"

// FuzzRecognise reads arbitrary bytes as the head of a block device (a
// disk the agent probes for root= is untrusted): nothing may panic, and a
// recognised file system has a type.
func FuzzRecognise(f *testing.F) {
	f.Add(make([]byte, 70*1024))
	f.Fuzz(func(t *testing.T, b []byte) {
		if info, ok := recognise(b); ok && info.FSType == "" {
			t.Fatalf("recognised without a type: %+v", info)
		}
	})
}
