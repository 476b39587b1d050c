package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWriteReplacesWholeAndLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "blob")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("new content"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "new content" {
		t.Errorf("content %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left %v", entries)
	}
	// A directory that does not exist: an error naming the file, nothing left.
	if err := Write(filepath.Join(dir, "no/such/blob"), []byte("x"), 0o600); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

// A symlink planted at the old fixed temporary name (PATH.tmp) is never
// written through: its target keeps its content.
func TestPlantedSymlinkIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	out := filepath.Join(dir, "out.deb")
	if err := os.Symlink(victim, out+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := Write(out, []byte("signed package"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep me" {
		t.Errorf("the symlink's target became %q", got)
	}
	if got, _ := os.ReadFile(out); string(got) != "signed package" {
		t.Errorf("out is %q", got)
	}
}

// A temporary file pre-created by someone else (0666, another owner) is
// never reused: the result has the mode asked for and the process's owner,
// whatever the umask.
func TestPrecreatedTemporaryIsNotReused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "kmk.sealed")
	if err := os.WriteFile(out+".tmp", nil, 0o666); err != nil {
		t.Fatal(err)
	}
	os.Chmod(out+".tmp", 0o666)
	if os.Geteuid() == 0 {
		if err := os.Chown(out+".tmp", 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	old := unix.Umask(0)
	defer unix.Umask(old)
	if err := Write(out, []byte("secret blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(out, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o600 || int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid() {
		t.Errorf("mode %#o owner %d:%d, want 0600 %d:%d", st.Mode&0o7777, st.Uid, st.Gid, os.Geteuid(), os.Getegid())
	}
	unix.Umask(0o077)
	if err := Write(out, []byte("public"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o644 {
		t.Errorf("under umask 077: mode %v, want 0644", fi.Mode().Perm())
	}
}

// A failed write leaves the target as it was and no temporary file.
func TestFailedWriteLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "img")
	os.WriteFile(p, []byte("old"), 0o644)
	err := WriteFrom(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return errors.New("disk on fire")
	})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Errorf("target became %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left %v", entries)
	}
}
