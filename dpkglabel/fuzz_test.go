package dpkglabel

import (
	"bytes"
	"testing"
)

// FuzzDatabase reads arbitrary bytes as dpkg's status file and as its
// diversions file (an offline root's database is whoever made the image).
// Nothing may panic; every package found has a name and a state.
func FuzzDatabase(f *testing.F) {
	for _, s := range []string{
		"Package: a\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\n\nPackage: b\nStatus: install ok unpacked\n",
		"Package: a\nDescription: x\n more\n .\n",
		"Package: a\nStatus: install ok\n",
		"/usr/bin/a\n/usr/bin/a.distrib\npkg\n",
		"/x\n/y\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := ParseStatus(bytes.NewReader(data), "status")
		if err == nil {
			for _, p := range pkgs {
				if p.Name == "" || p.State == "" {
					t.Fatalf("package %+v without a name or state", p)
				}
			}
		}
		divs, err := ParseDiversions(bytes.NewReader(data), "diversions")
		if err == nil {
			for from, d := range divs {
				actual(divs, d.By, from)
			}
		}
	})
}
