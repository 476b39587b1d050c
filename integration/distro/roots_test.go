package distro

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A cached root is a directory under cacheDir with a ".recipe" file holding
// the recipe it was built from; a different recipe rebuilds it.
const (
	// baseRecipe: debootstrap --variant=minbase bookworm plus the packages
	// of testdata/chroot.sh base. initramfs-tools comes with the kernel.
	baseRecipe = "bookworm minbase; linux-image-cloud-amd64 initramfs-tools systemd systemd-sysv udev kmod keyutils busybox e2fsprogs"
	// dracutRecipe: the base with dracut (which replaces initramfs-tools).
	dracutRecipe = baseRecipe + "; dracut"
)

var (
	rootsMu sync.Mutex
	roots   = map[string]*cachedRoot{}
)

type cachedRoot struct {
	once sync.Once
	dir  string
	err  error
}

// chrootScript is testdata/chroot.sh.
func chrootScript() string {
	return filepath.Join(repo, "integration", "distro", "testdata", "chroot.sh")
}

// runLogged runs a command, returning its output in the error.
func runLogged(t testing.TB, name string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out.String(), 4000))
	}
	return out.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// inChroot runs a command inside root (testdata/chroot.sh run).
func inChroot(t testing.TB, root string, args ...string) string {
	t.Helper()
	return runLogged(t, chrootScript(), append([]string{"run", root}, args...)...)
}

// cached returns the cached tree name, building it with build when it is
// missing or was built from another recipe. Concurrent callers wait.
func cached(t testing.TB, name, recipe string, build func(tmp string)) string {
	t.Helper()
	rootsMu.Lock()
	c := roots[name]
	if c == nil {
		c = &cachedRoot{}
		roots[name] = c
	}
	rootsMu.Unlock()
	c.once.Do(func() {
		dir := filepath.Join(cacheDir, name)
		if b, err := os.ReadFile(filepath.Join(dir, ".recipe")); err == nil && string(b) == recipe {
			c.dir = dir
			return
		}
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			c.err = err
			return
		}
		tmp := dir + ".tmp"
		os.RemoveAll(tmp)
		t0 := time.Now()
		ok := false
		func() {
			defer func() {
				if !ok {
					c.err = fmt.Errorf("building %s failed", name)
				}
			}()
			build(tmp)
			ok = true
		}()
		if !ok {
			return
		}
		if err := os.WriteFile(filepath.Join(tmp, ".recipe"), []byte(recipe), 0o644); err != nil {
			c.err = err
			return
		}
		os.RemoveAll(dir)
		if err := os.Rename(tmp, dir); err != nil {
			c.err = err
			return
		}
		t.Logf("built the cached root %s in %v", name, time.Since(t0).Round(time.Second))
		c.dir = dir
	})
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.dir
}

// baseRoot is the debootstrapped bookworm with the kernel and initramfs-tools.
func baseRoot(t testing.TB) string {
	return cached(t, "bookworm-base", baseRecipe, func(tmp string) {
		if _, err := exec.LookPath("debootstrap"); err != nil {
			t.Fatal("debootstrap is not installed (Debian package debootstrap; scripts/setup-host)")
		}
		runLogged(t, chrootScript(), "base", tmp)
	})
}

// dracutRoot is the base with dracut instead of initramfs-tools.
func dracutRoot(t testing.TB) string {
	base := baseRoot(t)
	return cached(t, "bookworm-dracut", dracutRecipe, func(tmp string) {
		runLogged(t, "cp", "-a", base, tmp)
		os.Remove(filepath.Join(tmp, ".recipe"))
		inChroot(t, tmp, "apt-get", "install", "-y", "-q", "--no-install-recommends", "dracut")
		inChroot(t, tmp, "apt-get", "clean")
	})
}

// workCopy copies a cached root (xattrs, owners, modes kept) for one test.
func workCopy(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "root")
	runLogged(t, "cp", "-a", src, dst)
	os.Remove(filepath.Join(dst, ".recipe"))
	return dst
}

// kernelRelease is the one kernel installed in the tree.
func kernelRelease(t testing.TB, root string) string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, "lib", "modules"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("want one kernel in %s/lib/modules: %v %v", root, ents, err)
	}
	return ents[0].Name()
}
