package blockdev

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Disk layouts made with sfdisk (Debian package fdisk):
//
//	gpt.img  16 MiB  1: 1 MiB "EFI system"  2: deleted (empty slot)  3: 8 MiB "rootfs"
//	dos.img  16 MiB  1: 1 MiB Linux  2: extended (5: 1 MiB Linux, 6: 1 MiB swap)

const (
	gptDiskID = "6e4d2a1b-0c3f-4e5d-8a7b-9c0d1e2f3a4b"
	gptPart1  = "0a1b2c3d-4e5f-4061-8273-8495a6b7c8d9"
	gptPart3  = "f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f"
	dosDiskID = "1234abcd"
)

// sfdisk 2.38 (Debian 12) writes 512-byte sectors only: 4 KiB-sector GPT
// is covered by the sector size coming from sysfs, not by a test image.
func makeGPT(t testing.TB, path string) string {
	t.Helper()
	prog := tool(t, "sfdisk", "fdisk")
	sparse(t, path, 16<<20)
	script := "label: gpt\nlabel-id: " + strings.ToUpper(gptDiskID) + "\n" +
		"size=1MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=" + gptPart1 + ", name=\"EFI system\"\n" +
		"size=1MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n" +
		"size=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=" + strings.ToUpper(gptPart3) + ", name=rootfs\n"
	run(t, script, prog, "-q", path)
	run(t, "", prog, "-q", "--delete", path, "2")
	return path
}

func makeDOS(t testing.TB, path string) string {
	t.Helper()
	prog := tool(t, "sfdisk", "fdisk")
	sparse(t, path, 16<<20)
	script := "label: dos\nlabel-id: 0x" + dosDiskID + "\n" +
		"start=2048, size=2048, type=83\n" +
		"start=4096, size=20480, type=5\n" +
		"start=6144, size=2048, type=83\n" +
		"start=10240, size=2048, type=82\n"
	run(t, script, prog, "-q", path)
	return path
}

// sfdiskView is what sfdisk -J says, the oracle for ReadTable.
type sfdiskView struct {
	PartitionTable struct {
		Label      string `json:"label"`
		ID         string `json:"id"`
		Partitions []struct {
			Node  string `json:"node"`
			Start uint64 `json:"start"`
			UUID  string `json:"uuid"`
			Name  string `json:"name"`
		} `json:"partitions"`
	} `json:"partitiontable"`
}

func sfdiskJSON(t testing.TB, path string) sfdiskView {
	t.Helper()
	out := run(t, "", tool(t, "sfdisk", "fdisk"), "-J", path)
	var v sfdiskView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("sfdisk -J: %v\n%s", err, out)
	}
	return v
}

// sameAsSfdisk compares every partition's number, start, UUID and name.
func sameAsSfdisk(t testing.TB, path string, got Table) {
	t.Helper()
	v := sfdiskJSON(t, path)
	if len(v.PartitionTable.Partitions) != len(got.Partitions) {
		t.Fatalf("%s: %d partitions, sfdisk sees %d", path, len(got.Partitions), len(v.PartitionTable.Partitions))
	}
	for i, w := range v.PartitionTable.Partitions {
		n, _ := strconv.Atoi(strings.TrimPrefix(w.Node, path))
		g := got.Partitions[i]
		if g.Number != n || g.Start != w.Start || g.Name != w.Name ||
			(w.UUID != "" && !strings.EqualFold(g.UUID, w.UUID)) {
			t.Errorf("%s: partition %+v, sfdisk says %+v", path, g, w)
		}
	}
}

func TestReadTableGPT(t *testing.T) {
	img := makeGPT(t, filepath.Join(t.TempDir(), "gpt.img"))
	tab, err := ReadTable(img, 512)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Kind != "gpt" || tab.DiskID != gptDiskID {
		t.Errorf("table %s %s", tab.Kind, tab.DiskID)
	}
	p1, ok1 := tab.Lookup(1)
	p3, ok3 := tab.Lookup(3)
	_, ok2 := tab.Lookup(2)
	if !ok1 || !ok3 || ok2 || p1.UUID != gptPart1 || p1.Name != "EFI system" ||
		p3.UUID != gptPart3 || p3.Name != "rootfs" {
		t.Errorf("partitions %+v", tab.Partitions)
	}
	sameAsSfdisk(t, img, tab)
	if kv := blkid(t, img); kv["PTUUID"] != gptDiskID || kv["PTTYPE"] != "gpt" {
		t.Errorf("blkid says %v", kv)
	}
}

// A damaged primary header or entry array falls back to the backup copy at
// the end of the disk; with both damaged the error says why.
func TestReadTableGPTBackup(t *testing.T) {
	img := makeGPT(t, filepath.Join(t.TempDir(), "gpt.img"))
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{0xff}, 2*512+16); err != nil { // first entry's unique GUID
		t.Fatal(err)
	}
	tab, err := ReadTable(img, 512)
	if err != nil {
		t.Fatalf("with a damaged primary entry array: %v", err)
	}
	if p, _ := tab.Lookup(1); p.UUID != gptPart1 {
		t.Errorf("backup not used: partition 1 is %+v", p)
	}
	st, _ := f.Stat()
	if _, err := f.WriteAt(make([]byte, 8), st.Size()-512); err != nil { // backup signature
		t.Fatal(err)
	}
	_, err = ReadTable(img, 512)
	if err == nil || !strings.Contains(err.Error(), "entries at LBA 2: CRC mismatch") ||
		!strings.Contains(err.Error(), "no EFI PART signature") {
		t.Errorf("both copies damaged: %v", err)
	}
}

func TestReadTableDOS(t *testing.T) {
	img := makeDOS(t, filepath.Join(t.TempDir(), "dos.img"))
	tab, err := ReadTable(img, 512)
	if err != nil {
		t.Fatal(err)
	}
	var uuids []string
	for _, p := range tab.Partitions {
		uuids = append(uuids, p.UUID)
	}
	want := "1234abcd-01 1234abcd-02 1234abcd-05 1234abcd-06"
	if tab.Kind != "dos" || tab.DiskID != dosDiskID || strings.Join(uuids, " ") != want {
		t.Errorf("got %s %s %v, want %s", tab.Kind, tab.DiskID, uuids, want)
	}
	sameAsSfdisk(t, img, tab)
	// blkid names the disk the same way (PTUUID).
	if kv := blkid(t, img); kv["PTUUID"] != dosDiskID || kv["PTTYPE"] != "dos" {
		t.Errorf("blkid says %v", kv)
	}
}

func TestReadTableNone(t *testing.T) {
	img := sparse(t, filepath.Join(t.TempDir(), "blank.img"), 1<<20)
	if _, err := ReadTable(img, 512); !errors.Is(err, ErrNoTable) {
		t.Errorf("blank disk: %v", err)
	}
}

// Probing a whole partitioned disk says to name a partition instead.
func TestProbeWholeDisk(t *testing.T) {
	img := makeGPT(t, filepath.Join(t.TempDir(), "gpt.img"))
	_, err := Probe(img)
	want := "not a file system: " + img + " (holds a gpt partition table: name a partition, not the whole disk)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
