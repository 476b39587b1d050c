package debsign

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/relabel"
)

// BenchmarkSignCachedDebs signs the .debs of .cache/debs-standard (scripts/bench-debsign
// fetches them) in memory; -cpuprofile shows where the time goes.
func BenchmarkSignCachedDebs(b *testing.B) {
	debs, _ := filepath.Glob("../.cache/debs-standard/*.deb")
	if len(debs) == 0 {
		b.Skip("no .debs in .cache/debs-standard (run scripts/bench-debsign once)")
	}
	dir := b.TempDir()
	fixture.NeedTools(b, "openssl")
	_, s := newKey(b, dir, "rsa")
	var size int64
	for _, d := range debs {
		st, err := os.Stat(d)
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		for _, d := range debs {
			p, err := deb.ReadFile(d)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := SignPackage(p, s, relabel.AlgoSHA256); err != nil {
				b.Fatal(err)
			}
		}
	}
}
