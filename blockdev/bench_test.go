package blockdev

import "testing"

// BenchmarkFind is one poll of Wait on a machine of 11 block devices (two
// partitioned disks): what each rootdelay= tick costs.
func BenchmarkFind(b *testing.B) {
	m := newFakeMachine(b)
	m.basic()
	m.partitioned()
	for _, spec := range []string{"UUID=" + uuidRoot, "PARTUUID=" + gptPart3} {
		b.Run(spec[:4], func(b *testing.B) {
			for b.Loop() {
				if _, err := Find(spec, m.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
