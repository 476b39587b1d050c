package initagent

import (
	"reflect"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	cl, err := ParseCmdline("BOOT_IMAGE=/vmlinuz root=UUID=0b1c ro  quiet rootflags=\"data=ordered,noatime\" rw init=/bin/sh -- single x=1\n")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range cl.Params {
		keys = append(keys, p.Key)
	}
	want := []string{"BOOT_IMAGE", "root", "ro", "quiet", "rootflags", "rw", "init"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q, want %q (nothing after --)", keys, want)
	}
	r := cl.Root()
	if r.Device != "UUID=0b1c" || r.Flags != "data=ordered,noatime" || r.ReadOnly || r.Init != "/bin/sh" {
		t.Errorf("root %+v", r)
	}
	if !cl.Has("quiet") || cl.Has("root") {
		t.Error("Has")
	}
}

func TestCmdlineRootDefaults(t *testing.T) {
	cl, _ := ParseCmdline("root=/dev/vda rootfstype=ext4,xfs rootdelay=3 rw ro")
	r := cl.Root()
	if !r.ReadOnly || !reflect.DeepEqual(r.FSTypes, []string{"ext4", "xfs"}) || r.Delay != "3" {
		t.Errorf("root %+v", r)
	}
	// Later parameters win, as in the kernel.
	cl, _ = ParseCmdline("root=/dev/vda root=LABEL=x")
	if cl.Root().Device != "LABEL=x" {
		t.Errorf("root %q", cl.Root().Device)
	}
	if _, err := ParseCmdline(`a="b`); err == nil {
		t.Error("unterminated quote accepted")
	}
}
