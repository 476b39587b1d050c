package relabel

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imaboot/imaboot/internal/swaptest"
)

// Layout of the race tests (under a temporary DIR):
//
//	DIR/path/a/f0..f19, DIR/path/a/sub/g0..g19   the tree labeled (PATH)
//	DIR/path/link -> DIR/outside                  swapped with DIR/path/a
//	DIR/outside/f0..f19, DIR/outside/sub/g0..g19  must never get a label
func raceTree(t *testing.T) (path, outside string) {
	dir := labelDir(t)
	path, outside = filepath.Join(dir, "path"), filepath.Join(dir, "outside")
	for _, top := range []string{filepath.Join(path, "a"), outside} {
		for i := 0; i < 20; i++ {
			writeFile(t, filepath.Join(top, "f"+itoa(i)), "file "+itoa(i), 0o755)
			writeFile(t, filepath.Join(top, "sub", "g"+itoa(i)), "sub file "+itoa(i), 0o755)
		}
	}
	if err := os.Symlink(outside, filepath.Join(path, "link")); err != nil {
		t.Fatal(err)
	}
	return path, outside
}

// unlabeledOutside fails the test for every file under dir that has a label.
func unlabeledOutside(t *testing.T, dir string, run int) bool {
	t.Helper()
	ok := true
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && (getIMA(t, p, XattrIMA) != nil || getIMA(t, p, XattrEVM) != nil) {
			t.Errorf("run %d labeled %s, outside PATH", run, p)
			ok = false
		}
		return nil
	})
	return ok
}

// A directory of PATH swapped with a symlink to a directory outside PATH
// while the tree is walked: no file outside PATH is ever labeled (hash mode,
// then signatures with portable EVM signatures), and every run still labels
// what it walked inside PATH.
func TestWalkNeverFollowsASwappedDirectory(t *testing.T) {
	path, outside := raceTree(t)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := NewSignerWithKeyID(ek, 7)
	stop := swaptest.Loop(t, filepath.Join(path, "a"), filepath.Join(path, "link"))
	runs, failedRuns := 60, 0
	for i := 0; i < runs; i++ {
		o := Options{Paths: []string{path}, Force: true, Workers: 2, settle: time.Nanosecond}
		if i%2 == 1 {
			o.Signer, o.EVMPortable = signer, true
		}
		s, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if s.Failed > 0 {
			failedRuns++ // a swap seen mid-walk is reported, never followed
		}
		if !unlabeledOutside(t, outside, i) {
			break
		}
	}
	t.Logf("%d runs, %d swaps, %d runs reported a directory changed while walked", runs, stop(), failedRuns)
}

// Verify walks the same way: it never reads a file outside PATH.
func TestVerifyNeverFollowsASwappedDirectory(t *testing.T) {
	path, outside := raceTree(t)
	// Outside PATH every file is labeled (so verify would report it
	// "ok"), inside none is: a verdict on an outside file shows up as a
	// verified file.
	if _, err := Run(context.Background(), Options{Paths: []string{outside}}); err != nil {
		t.Fatal(err)
	}
	stop := swaptest.Loop(t, filepath.Join(path, "a"), filepath.Join(path, "link"))
	for i := 0; i < 60; i++ {
		rep, err := Verify(context.Background(), VerifyOptions{Paths: []string{path}, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verified > 0 {
			t.Errorf("run %d verified %d files: read outside PATH", i, rep.Verified)
			break
		}
	}
	t.Logf("%d swaps", stop())
}
