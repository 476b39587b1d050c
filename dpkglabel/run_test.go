package dpkglabel_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/dpkglabel"
	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/relabel"
)

// fakeRoot is an offline root with a dpkg database written by hand.
type fakeRoot struct {
	t    *testing.T
	dir  string
	s    *relabel.Signer
	stat strings.Builder
}

// add installs package name in state with files (path -> content); signed
// ones get a manifest entry over signedAs[path] if given, else their content.
func (r *fakeRoot) add(name, state string, files map[string]string, signed bool, signedAs map[string]string) {
	r.t.Helper()
	fmt.Fprintf(&r.stat, "Package: %s\nStatus: install ok %s\nArchitecture: all\nDescription: x\n more\n\n", name, state)
	writeFiles(r.t, r.dir, map[string]string{"var/lib/dpkg/status": r.stat.String()})
	var list []string
	m := &imasigs.Manifest{}
	for p, c := range files {
		if strings.HasPrefix(p, "DEBIAN/") {
			writeFiles(r.t, r.dir, map[string]string{"var/lib/dpkg/info/" + name + "." + p[7:]: c})
		} else {
			writeFiles(r.t, r.dir, map[string]string{p[1:]: c})
			list = append(list, filepath.Dir(p), p)
		}
		if as, ok := signedAs[p]; ok {
			c = as
		}
		d := sha256.Sum256([]byte(c))
		l, err := r.s.SignLabel(relabel.TypeSignature, relabel.AlgoSHA256, d[:])
		if err != nil {
			r.t.Fatal(err)
		}
		m.Entries = append(m.Entries, imasigs.Entry{Path: p, Algo: relabel.AlgoSHA256, Digest: d[:], Label: l})
	}
	writeFiles(r.t, r.dir, map[string]string{"var/lib/dpkg/info/" + name + ".list": "/.\n" + strings.Join(list, "\n") + "\n"})
	if signed {
		b, err := m.Marshal()
		if err != nil {
			r.t.Fatal(err)
		}
		writeFiles(r.t, r.dir, map[string]string{"var/lib/dpkg/info/" + name + ".imasigs": string(b)})
	}
}

func runRoot(t *testing.T, o dpkglabel.Options) (dpkglabel.Summary, string) {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	sum, err := dpkglabel.Run(o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum, out.String()
}

func TestRunOfflineRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("security.ima needs root")
	}
	r := &fakeRoot{t: t, dir: t.TempDir(), s: newSigner(t)}
	r.add("done", "installed", map[string]string{"/usr/bin/done": "#!/bin/sh\n", "DEBIAN/postinst": "#!/bin/sh\n"}, true, nil)
	r.add("new", "unpacked", map[string]string{"/usr/bin/new": "#!/bin/sh\nnew\n", "/usr/lib/new.so": "changed"}, true,
		map[string]string{"/usr/lib/new.so": "what was signed"})
	r.add("plain", "installed", map[string]string{"/usr/bin/plain": "x"}, false, nil)
	at := func(p string) string { return filepath.Join(r.dir, p) }

	sum, out := runRoot(t, dpkglabel.Options{Root: r.dir, Pending: true})
	if sum.Packages != 1 || sum.Labeled != 1 || sum.Mismatches != 1 {
		t.Errorf("--pending: %+v\n%s", sum, out)
	}
	if ima(t, at("usr/bin/done")) != nil {
		t.Error("--pending labeled an installed package")
	}
	if len(ima(t, at("usr/bin/new"))) == 0 {
		t.Error("--pending did not label the unpacked package")
	}
	if ima(t, at("usr/lib/new.so")) != nil || !strings.Contains(out, "mismatch new: "+at("usr/lib/new.so")) {
		t.Errorf("a changed file was labeled or not reported:\n%s", out)
	}

	var progress bytes.Buffer
	sum, out = runRoot(t, dpkglabel.Options{Root: r.dir, ListUnsigned: true, Progress: &progress})
	if progress.String() != "progress: 3/3 packages\n" {
		t.Errorf("progress: %q", progress.String())
	}
	if sum.Packages != 3 || sum.Labeled != 2 || sum.Verified != 1 || sum.Mismatches != 1 || sum.NoManifest != 1 || sum.Unsigned != 1 {
		t.Errorf("all: %+v\n%s", sum, out)
	}
	for _, want := range []string{"no-manifest plain:", "unsigned " + at("usr/bin/plain") + " (plain)", "summary: 3 packages"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(ima(t, at("var/lib/dpkg/info/done.postinst"))) == 0 {
		t.Error("maintainer script not labeled")
	}
}

// After dpkg's rollback a package may be left half-installed with the old
// version's files, labeled, and no manifest: the hook does not call them
// unlabeled. A file without a signature label is still named.
func TestRunNoManifestLabeled(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("security.ima needs root")
	}
	r := &fakeRoot{t: t, dir: t.TempDir(), s: newSigner(t)}
	r.add("restored", "half-installed", map[string]string{"/usr/lib/libr.so": "old lib", "/usr/bin/r": "#!/bin/sh\n"}, false, nil)
	label := []byte{byte(relabel.TypeSignature), 2, byte(relabel.AlgoSHA256), 0, 0, 0, 0, 0, 0}
	for _, p := range []string{"usr/lib/libr.so", "usr/bin/r"} {
		if err := unix.Setxattr(filepath.Join(r.dir, p), relabel.XattrIMA, label, 0); err != nil {
			t.Fatal(err)
		}
	}
	sum, out := runRoot(t, dpkglabel.Options{Root: r.dir, Pending: true})
	if strings.Contains(out, "no-manifest") || sum.NoManifest != 0 {
		t.Errorf("labeled files reported as unlabeled: %+v\n%s", sum, out)
	}
	unix.Removexattr(filepath.Join(r.dir, "usr/bin/r"), relabel.XattrIMA)
	sum, out = runRoot(t, dpkglabel.Options{Root: r.dir, Pending: true})
	if !strings.Contains(out, "no-manifest restored: 1 files stay unlabeled") || sum.NoManifest != 1 {
		t.Errorf("the one unlabeled file is not reported: %+v\n%s", sum, out)
	}
}

// A symlink inside the offline root resolves inside it: the host's file of
// the same name is never read or labeled.
func TestRunRootConfined(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("security.ima needs root")
	}
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	writeFiles(t, outside, map[string]string{"victim": "#!/bin/sh\n"})
	r := &fakeRoot{t: t, dir: t.TempDir(), s: newSigner(t)}
	r.add("evil", "installed", map[string]string{"/usr/bin/evil": "#!/bin/sh\n", "/opt/x/victim": "#!/bin/sh\n"}, true, nil)
	// /opt/x becomes an absolute symlink to the host directory.
	os.RemoveAll(filepath.Join(r.dir, "opt/x"))
	if err := os.Symlink(outside, filepath.Join(r.dir, "opt/x")); err != nil {
		t.Fatal(err)
	}
	sum, out := runRoot(t, dpkglabel.Options{Root: r.dir})
	if ima(t, victim) != nil {
		t.Fatalf("a file outside the root was labeled through a symlink:\n%s", out)
	}
	// Inside the root the link leads nowhere: a signed file not on disk.
	if sum.Missing != 1 || sum.Mismatches != 0 {
		t.Errorf("the file behind the link is not counted as not on disk: %+v\n%s", sum, out)
	}
}
