package securityfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const asciiList = `10 91f34b5c671d73504b274a919661cf80dab1e127 ima-ng sha1:1801e1be3e65ef1eaa5c16617bec8f1274eaf6b3 boot_aggregate
10 8b1683287f61f96e5448f40bdef6df32be86486a ima-sig sha256:efdd249edec97caf9328a4a01baa99b7d660d1afc2e118b69137081c9b689954 /init 
10 ed893b1a0bc54ea5cd57a1d1f3a3f9b8a0b4c3d2 ima-sig sha256:98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4 /usr/bin/busybox 030204814dcdf50100
`

func TestMeasurements(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "ima"), 0o755)
	os.WriteFile(filepath.Join(root, "ima", "ascii_runtime_measurements"), []byte(asciiList), 0o440)
	fs := FS{Root: root}

	list, err := Measurements(fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[1].Path != "/init" || list[2].Template != "ima-sig" || list[2].PCR != 10 ||
		!strings.HasPrefix(list[2].FileHash, "sha256:98ea6e") || len(list[2].Extra) != 1 || len(list[1].Extra) != 0 {
		t.Errorf("parsed %+v", list)
	}
	// Without runtime_measurements_count the list is counted.
	if n, err := MeasurementCount(fs); err != nil || n != 3 {
		t.Errorf("count %d, %v; want 3", n, err)
	}
	os.WriteFile(filepath.Join(root, "ima", "runtime_measurements_count"), []byte("1234\n"), 0o440)
	if n, err := MeasurementCount(fs); err != nil || n != 1234 {
		t.Errorf("count %d, %v; want 1234 from runtime_measurements_count", n, err)
	}
	os.WriteFile(filepath.Join(root, "ima", "ascii_runtime_measurements"), []byte("10 abc ima-ng\n"), 0o440)
	if _, err := Measurements(fs); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("short line: %v", err)
	}
}
