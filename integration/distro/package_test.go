package distro

// imaboot's own Debian package (make deb) with the real dpkg, in a copy of
// the debootstrapped root (chroot, no VM): install, upgrade, removal, purge.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
)

var (
	debsMu sync.Mutex
	debs   = map[string]string{}
)

// imabootDeb builds imaboot's package at version (scripts/mkdeb, the
// binaries of this run), once per version; the caller signs a copy.
func imabootDeb(t testing.TB, version string) string {
	t.Helper()
	bins := binaries(t)
	debsMu.Lock()
	defer debsMu.Unlock()
	if p := debs[version]; p != "" {
		return p
	}
	out := filepath.Join(binDir, "deb-"+version)
	// gzip: xz would take most of the build's time; dpkg reads either.
	b, err := exec.Command(filepath.Join(repo, "scripts/mkdeb"), "OUT="+out, "BIN="+bins, "VERSION="+version, "COMPRESS=gzip").CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/mkdeb: %v\n%s", err, b)
	}
	debs[version] = strings.TrimSpace(string(b))
	return debs[version]
}

// signedCopy copies deb into dir and signs it there with key.
func signedCopy(t testing.TB, deb, dir string, key fixture.SigningKey) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(deb))
	runLogged(t, "cp", deb, dst)
	runLogged(t, filepath.Join(binaries(t), "imaboot-debsign"), "-q", "--key", key.Key, "--cert", key.CertPEM, dst)
	return dst
}

// chrootTry runs a command in the root and returns its output and error.
func chrootTry(root string, args ...string) (string, error) {
	b, err := exec.Command(chrootScript(), append([]string{"run", root}, args...)...).CombinedOutput()
	return string(b), err
}

// TestPackageLifecycle installs, upgrades, removes and purges imaboot's
// package, signed by imaboot-debsign, with the root's own dpkg:
//   - install: the postinst enables the dpkg hooks (dpkg-deb diverted to the
//     shim, the post-invoke snippet); an unconfigured imaboot rebuilds no
//     initramfs; --from-dpkg then labels imaboot's own files from the
//     manifest dpkg kept;
//   - upgrade, configured: the old shim and labeler label every file of the
//     new version as dpkg installs it (each signature verifies against the
//     key), the admin's conffile is kept, and the initramfs is rebuilt with
//     the new agent;
//   - upgrade with the hooks disabled by the admin: they stay disabled,
//     and the postinst says so; enabled again, the next upgrade keeps them;
//   - removal: dpkg's run ends cleanly although its post-invoke hook names a
//     labeler that is gone; the real dpkg-deb is back, the hooks are off,
//     the initramfs is rebuilt without imaboot;
//   - purge: imaboot's files in /etc/imaboot are gone, a file it did not
//     write and the certificates of /etc/keys stay.
func TestPackageLifecycle(t *testing.T) {
	t.Parallel()
	root := workCopy(t, baseRoot(t))
	kver := kernelRelease(t, root)
	key, err := fixture.NewSigningKey(t.TempDir(), "pkg", "rsa")
	if err != nil {
		t.Fatal(err)
	}
	pool := filepath.Join(root, "tmp", "pool")
	v1 := "/tmp/pool/" + filepath.Base(signedCopy(t, imabootDeb(t, "1.0"), pool, key))
	v2 := "/tmp/pool/" + filepath.Base(signedCopy(t, imabootDeb(t, "1.1"), pool, key))
	initrd := "/boot/initrd.img-" + kver
	// Small initramfs images (no module but those listed): this test looks
	// only at whether imaboot is in them, and builds three.
	inChroot(t, root, "sed", "-i", "s/^MODULES=.*/MODULES=list/", "/etc/initramfs-tools/initramfs.conf")
	inInitrd := func() bool {
		return strings.Contains(inChroot(t, root, "lsinitramfs", initrd), "usr/sbin/imaboot-init")
	}

	out := inChroot(t, root, "dpkg", "-i", v1)
	if st, err := chrootTry(root, "imaboot-dpkg-hooks", "status"); err != nil || !strings.HasSuffix(st, "enabled\n") {
		t.Errorf("after the install, imaboot-dpkg-hooks status: %v\n%s", err, st)
	}
	if l, _ := os.Readlink(filepath.Join(root, "usr/bin/dpkg-deb")); l != "/usr/lib/imaboot/imaboot-dpkg-deb" {
		t.Errorf("/usr/bin/dpkg-deb -> %q after the install", l)
	}
	if strings.Contains(out, "update-initramfs") || inInitrd() {
		t.Errorf("an unconfigured install touched the initramfs:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/dpkg/info/imaboot.imasigs")); err != nil {
		t.Errorf("dpkg kept no manifest of imaboot: %v", err)
	}
	rep := inChroot(t, root, "imaboot-relabel", "--from-dpkg", "-q")
	if !matches(`^summary: .* [1-9]\d* labeled, .* 0 mismatches`, rep) {
		t.Errorf("imaboot-relabel --from-dpkg after the install:\n%s", rep)
	}
	files := packageFiles(t, root)
	verifyLabels(t, root, key, files)

	// The admin configures imaboot as docs/debian.md says.
	der, _ := os.ReadFile(key.CertDER)
	write(t, root, "/etc/keys/ima/pkg.der", string(der), 0o644)
	inChroot(t, root, "imaboot-policygen", "generate", "--profile", "seed", "--kernel", kver, "--kernel-config", "/boot/config-"+kver, "-o", "/etc/imaboot/ima-policy")
	inChroot(t, root, "sed", "-i", "s/^#MODE=.*/MODE=enforce/", "/etc/imaboot/imaboot.conf")
	for _, f := range files {
		// Stale labels must not pass for new ones.
		exec.Command("setfattr", "-x", "security.ima", filepath.Join(root, f)).Run()
	}

	// As apt does it: unpack, then configure (dpkg -i does both in one run,
	// and its post-invoke hook comes after the postinst).
	out = inChroot(t, root, "apt-get", "install", "-y", "-q", v2)
	if v := inChroot(t, root, "dpkg-query", "-W", "-f", "${Version} ${db:Status-Abbrev}", "imaboot"); v != "1.1 ii " {
		t.Errorf("after the upgrade: %q, want 1.1 ii", v)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "etc/imaboot/imaboot.conf")); !matches(`^MODE=enforce$`, string(b)) {
		t.Error("the upgrade lost the admin's MODE=enforce")
	}
	if !strings.Contains(out, "summary: 1 packages") {
		t.Errorf("the post-invoke labeler did not run for the upgrade:\n%s", tail(out, 3000))
	}
	verifyLabels(t, root, key, packageFiles(t, root))
	if !strings.Contains(out, "update-initramfs: Generating "+initrd) || !inInitrd() {
		t.Errorf("the configured upgrade did not rebuild the initramfs with imaboot:\n%s", tail(out, 3000))
	}
	if st, err := chrootTry(root, "imaboot-dpkg-hooks", "status"); err != nil {
		t.Errorf("the hooks are not enabled after the upgrade: %v\n%s", err, st)
	}

	// An admin who disabled the hooks keeps them disabled through an
	// upgrade (here a reinstall, which dpkg runs as one), and is told.
	inChroot(t, root, "imaboot-dpkg-hooks", "disable")
	out = inChroot(t, root, "dpkg", "-i", v2)
	if st, err := chrootTry(root, "imaboot-dpkg-hooks", "status"); err == nil {
		t.Errorf("an upgrade enabled the hooks the admin had disabled:\n%s", st)
	}
	if !strings.Contains(out, "imaboot: the dpkg hooks were not enabled before this upgrade and stay so") {
		t.Errorf("the upgrade does not say that the hooks stay disabled:\n%s", tail(out, 3000))
	}
	inChroot(t, root, "imaboot-dpkg-hooks", "enable")
	inChroot(t, root, "dpkg", "-i", v2)
	if st, err := chrootTry(root, "imaboot-dpkg-hooks", "status"); err != nil {
		t.Errorf("the hooks enabled again are not enabled after the next upgrade: %v\n%s", err, st)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/imaboot/dpkg-hooks-disabled")); err == nil {
		t.Error("the preinst's note is left after the upgrade")
	}

	out, err = chrootTry(root, "dpkg", "-r", "imaboot")
	if err != nil {
		t.Errorf("dpkg -r imaboot: %v\n%s", err, tail(out, 3000))
	}
	if st, err := chrootTry(root, "imaboot-dpkg-hooks", "status"); err == nil {
		t.Errorf("imaboot-dpkg-hooks still runs after the removal:\n%s", st)
	}
	if div := inChroot(t, root, "dpkg-divert", "--list", "/usr/bin/dpkg-deb"); div != "" {
		t.Errorf("dpkg-deb still diverted: %s", div)
	}
	if st, err := os.Lstat(filepath.Join(root, "usr/bin/dpkg-deb")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("/usr/bin/dpkg-deb is not the real one after the removal: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/dpkg/dpkg.cfg.d/imaboot")); err == nil {
		t.Error("the post-invoke snippet is left after the removal")
	}
	if !strings.Contains(out, "update-initramfs: Generating "+initrd) || inInitrd() {
		t.Errorf("the removal did not rebuild the initramfs without imaboot:\n%s", tail(out, 3000))
	}
	inChroot(t, root, "dpkg-deb", "--version")

	// A signing host keeps its keys in /etc/imaboot (docs/debian.md): the
	// purge removes imaboot's files and leaves others.
	write(t, root, "/etc/imaboot/release.key", "private", 0o600)
	inChroot(t, root, "dpkg", "-P", "imaboot")
	for _, f := range []string{"imaboot.conf", "ima-policy"} {
		if _, err := os.Stat(filepath.Join(root, "etc/imaboot", f)); err == nil {
			t.Errorf("/etc/imaboot/%s is left after the purge", f)
		}
	}
	if ents, err := os.ReadDir(filepath.Join(root, "etc/imaboot")); err != nil || len(ents) != 1 || ents[0].Name() != "release.key" {
		t.Errorf("after the purge /etc/imaboot holds %v (%v), want only the file imaboot did not write", ents, err)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/imaboot")); err == nil {
		t.Error("/var/lib/imaboot is left after the purge")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/keys/ima/pkg.der")); err != nil {
		t.Errorf("the purge removed a certificate: %v", err)
	}
	if st, _ := chrootTry(root, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "imaboot"); strings.HasPrefix(st, "ii") || strings.HasPrefix(st, "rc") {
		t.Errorf("imaboot after the purge: %q", st)
	}
}

// packageFiles lists imaboot's regular files outside /etc (the signed ones).
func packageFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(inChroot(t, root, "dpkg-query", "-L", "imaboot")), "\n") {
		if strings.HasPrefix(f, "/etc/") {
			continue
		}
		if st, err := os.Lstat(filepath.Join(root, f)); err == nil && st.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	if len(files) < 10 {
		t.Fatalf("dpkg -L imaboot lists %d regular files: %v", len(files), files)
	}
	return files
}

// verifyLabels checks that every file carries a signature by key.
func verifyLabels(t *testing.T, root string, key fixture.SigningKey, files []string) {
	t.Helper()
	args := []string{"verify", "--cert", key.CertPEM, "--progress", "never"}
	for _, f := range files {
		args = append(args, filepath.Join(root, f))
	}
	out, err := exec.Command(filepath.Join(binaries(t), "imaboot-relabel"), args...).CombinedOutput()
	if err != nil {
		t.Errorf("imaboot's files do not all carry a signature by the key: %v\n%s", err, tail(string(out), 3000))
	}
}
