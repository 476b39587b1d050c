package distro

// The Debian update story on a real kernel: packages signed by
// imaboot-debsign mirror on the host, installed and upgraded by apt in a
// Debian 12 guest that imaboot boots enforcing the seed policy's appraise
// rules.
//
// Disk layout (on top of the package comment's): /srv/upstream is a Debian
// archive in the standard layout (dists/bookworm, pool/) holding Debian's
// hello 2.10-3, a rebuilt hello 2.10-3+imaboot1 for the upgrade, and
// sgml-base (whose preinst and postinst run and whose postinst executes the
// package's own new update-catalog), its Release signed by a test
// "upstream" OpenPGP key; /srv/mirror is imaboot-debsign mirror's output
// for it (packages signed for IMA, Release signed by the mirror's OpenPGP
// key, the key package added); /srv/tampered/Packages.xz is the mirror's
// index with one stanza changed after signing. /etc/apt/keyrings holds both
// OpenPGP public keys; the machine's sources list names neither archive:
// the check script switches between them, with signed-by= and no
// trusted=yes. The dpkg hooks (the dpkg-deb shim and the post-invoke
// labeler) are installed in the tree on the host before it is signed.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/debarchive"
	"github.com/imaboot/imaboot/integration/fixture"
)

// seedAppraisePolicy is the seed policy's appraise rules (signed root-owned
// executables and executable mappings) after the pseudo file system
// exclusions a systemd root needs.
const seedAppraisePolicy = fixture.PseudoFSExclusions + `dont_appraise fsmagic=0x63677270
dont_appraise fsmagic=0x62656570
dont_appraise fsmagic=0x42494e4d
dont_appraise fsmagic=0x27e0eb
measure func=BPRM_CHECK
appraise func=BPRM_CHECK fowner=0 appraise_type=imasig
appraise func=MMAP_CHECK fowner=0 appraise_type=imasig
`

const (
	helloV1 = "2.10-3"
	helloV2 = "2.10-3+imaboot1"
)

// updatesCheck runs in the guest under systemd: apt from the signing
// mirror (update verifying InRelease, install, then upgrade), a file
// changed after install, then the same package from the upstream archive
// (signed by its own OpenPGP key, not for IMA), then a fresh apt-get update
// against the mirror with a Packages file changed after signing. Each
// result is a "DEB-name=rc" line; apt's output is prefixed "apt: ".
const updatesCheck = `#!/bin/sh
echo "ROOTINIT: pid=$$ init=$(cat /proc/1/comm)"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
mount -o remount,rw /
mark() { echo "DEB-$1=$2"; }
apt() { apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >/tmp/apt.log 2>&1; rc=$?; sed 's/^/apt: /' /tmp/apt.log; return $rc; }
use() {
	echo "deb [signed-by=/etc/apt/keyrings/$1.gpg] file:/srv/$1 bookworm main" > /etc/apt/sources.list.d/local.list
	rm -rf /var/lib/apt/lists/*
	apt update; mark update-$1 $?
}
use mirror
grep -qE 'GPG error|not signed|NO_PUBKEY' /tmp/apt.log; mark update-mirror-gpg-complaint $?
test -s /var/lib/apt/lists/_srv_mirror_dists_bookworm_InRelease; mark inrelease $?
apt install sgml-base hello=` + helloV1 + ` acme-ima-signing-key; mark install $?
test -s /etc/keys/ima/acme.der; mark keypkg $?
mark sgml-base-status "$(dpkg-query -W -f='${Status}' sgml-base)"
test -s /var/lib/sgml-base/supercatalog; mark supercatalog $?
hello >/dev/null; mark hello $?
update-catalog --quiet --update-super; mark update-catalog $?
apt upgrade; mark upgrade $?
mark hello-version "$(dpkg-query -W -f='${Version}' hello)"
hello >/dev/null; mark hello-upgraded $?
printf 'x' >> /usr/bin/hello
hello >/dev/null 2>&1; mark hello-changed $?
use upstream
apt install --allow-downgrades hello=` + helloV1 + `; mark unsigned-install $?
hello >/dev/null 2>&1; mark hello-unsigned $?
idx=/srv/mirror/dists/bookworm/main/binary-amd64
cp /srv/tampered/Packages.xz $idx/Packages.xz && rm -rf $idx/Packages $idx/Packages.gz $idx/by-hash
use mirror; mark tampered-done 0
dmesg | grep -E 'cause=[a-zA-Z-]+' | grep hello | sed 's/^/kmsg: /'
echo ROOTINIT-DONE
busybox poweroff -f
`

// debCache is where downloaded Debian packages are kept between runs.
func debCache(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(cacheDir, "debs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// downloadDebs fetches NAME=VERSION (or NAME) with apt-get download into
// the cache, once, and returns the files in the order asked.
func downloadDebs(t testing.TB, specs ...string) []string {
	t.Helper()
	dir := debCache(t)
	var missing []string
	find := func(spec string) string {
		name, ver, _ := strings.Cut(spec, "=")
		pat := name + "_*.deb"
		if ver != "" {
			// apt-get download names files with the epoch's colon encoded.
			pat = name + "_" + strings.ReplaceAll(ver, ":", "%3a") + "_*.deb"
		}
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		if len(m) == 0 {
			return ""
		}
		return m[0]
	}
	for _, s := range specs {
		if find(s) == "" {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		cmd := exec.Command("apt-get", append([]string{"-q", "-o", "APT::Sandbox::User=root", "download"}, missing...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get download: %v\n%s", err, tail(string(out), 3000))
		}
	}
	var files []string
	for _, s := range specs {
		f := find(s)
		if f == "" {
			t.Fatalf("apt-get download left no file for %s in %s", s, dir)
		}
		files = append(files, f)
	}
	return files
}

// rebuildVersion writes a copy of deb with another version (the upgrade).
func rebuildVersion(t testing.TB, deb, version, outDir string) string {
	t.Helper()
	x := filepath.Join(t.TempDir(), "x")
	runLogged(t, "dpkg-deb", "-R", deb, x)
	ctl := filepath.Join(x, "DEBIAN", "control")
	b, err := os.ReadFile(ctl)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Version: ") {
			l = "Version: " + version
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(ctl, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, strings.TrimSuffix(filepath.Base(deb), ".deb")+"-rebuilt.deb")
	// gzip: a rebuilt kernel package takes minutes with dpkg-deb's xz.
	runLogged(t, "dpkg-deb", "--root-owner-group", "-Zgzip", "-b", x, out)
	return out
}

// flatRepo copies debs into dir (the index is written by the caller).
func flatRepo(t testing.TB, dir string, debs ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range debs {
		runLogged(t, "cp", d, dir)
	}
}

// installDpkgHooks installs the dpkg-deb shim and the post-invoke labeler
// inside the tree, as an admin would on the machine.
func installDpkgHooks(t testing.TB, root string) {
	t.Helper()
	inChroot(t, root, "imaboot-dpkg-hooks", "enable")
}

// TestDebianUpdates: apt installs and upgrades packages signed by
// imaboot-debsign on a machine enforcing signatures; their maintainer
// scripts and new binaries run; the same package unsigned is refused at run
// time, and so is a signed file changed after install.
func TestDebianUpdates(t *testing.T) {
	t.Parallel()
	root := baseRoot(t)
	kver := kernelRelease(t, root)
	bins := binaries(t)
	setup := func(t *testing.T, tr *tree) {
		debs := downloadDebs(t, "hello="+helloV1, "sgml-base")
		v2 := rebuildVersion(t, debs[0], helloV2, t.TempDir())
		upstream := filepath.Join(tr.dir, "srv", "upstream")
		mirror := filepath.Join(tr.dir, "srv", "mirror")
		keys := t.TempDir()
		up, err := fixture.NewArchive(upstream, keys, "bookworm")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append(debs, v2) {
			if _, err := up.Add(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := up.Index(); err != nil {
			t.Fatal(err)
		}
		mirrorKey, _, err := fixture.NewOpenPGPKey(keys, "mirror")
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		out := runLogged(t, filepath.Join(bins, "imaboot-debsign"), "mirror", "--upstream", upstream, "--basedir", mirror,
			"--suites", "bookworm", "--components", "main", "--architectures", "amd64", "--origin", "Acme",
			"--signing-key", mirrorKey, "--key", tr.key.Key, "--cert", tr.key.CertPEM, "--upstream-keyring", up.Keyring)
		t.Logf("imaboot-debsign mirror in %v:\n%s", time.Since(t0).Round(time.Second), tail(out, 600))
		for name, src := range map[string]string{"mirror": filepath.Join(mirror, "mirror-keyring.gpg"), "upstream": up.Keyring} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			write(t, tr.dir, "/etc/apt/keyrings/"+name+".gpg", string(b), 0o644)
		}
		// The mirror's index with one stanza changed after it was signed:
		// hello's Depends gains a package an attacker controls.
		b, err := os.ReadFile(filepath.Join(mirror, "dists/bookworm/main/binary-amd64/Packages.xz"))
		if err != nil {
			t.Fatal(err)
		}
		text, err := debarchive.Decompress(".xz", b)
		if err == nil {
			text = []byte(strings.Replace(string(text), "Package: hello\n", "Package: hello\nPre-Depends: evil\n", 1))
			b, err = debarchive.Compress(".xz", text)
		}
		if err != nil {
			t.Fatal(err)
		}
		write(t, tr.dir, "/srv/tampered/Packages.xz", string(b), 0o644)
		// Only the local archives: the guest has no network.
		os.Remove(filepath.Join(tr.dir, "etc/apt/sources.list"))
		installDpkgHooks(t, tr.dir)
	}
	tr := prepare(t, root, options{policy: seedAppraisePolicy, check: updatesCheck, setup: setup}, initramfsTools(kver))
	t0 := time.Now()
	m := boot(t, tr, tr.initrds["initramfs-tools"], "")
	expect(t, m, `imaboot: ima-policy: IMA policy loaded, \d+ rules`)
	expect(t, m, `ROOTINIT: pid=\d+ init=systemd\n`)
	expect(t, m, `ROOTINIT-DONE`)
	con := m.Console()
	t.Logf("boot and checks in %v", time.Since(t0).Round(time.Second))
	want := map[string]string{
		"update-mirror":               "0",
		"inrelease":                   "0",
		"install":                     "0",
		"keypkg":                      "0",
		"sgml-base-status":            "install ok installed",
		"supercatalog":                "0", // the postinst ran the package's new update-catalog
		"hello":                       "0",
		"update-catalog":              "0",
		"upgrade":                     "0",
		"hello-version":               helloV2,
		"hello-upgraded":              "0",
		"hello-changed":               "126",
		"update-upstream":             "0",
		"update-mirror-gpg-complaint": "1", // grep found no complaint
		"tampered-done":               "0",
		"unsigned-install":            "0",
		"hello-unsigned":              "126",
	}
	for k, v := range want {
		if !strings.Contains(con, fmt.Sprintf("DEB-%s=%s\n", k, v)) {
			t.Errorf("want DEB-%s=%s on the console", k, v)
		}
	}
	// The reasons: the kernel's, and the labeler's word on the unsigned package.
	var seen []string
	for _, l := range strings.Split(con, "\n") {
		if matches(`^DEB-|^apt: .*(Hash Sum|unexpected size|InRelease|GPG)`, l) {
			seen = append(seen, l)
		}
	}
	t.Logf("results:\n%s", strings.Join(seen, "\n"))
	// The tampered index: apt's second update from the mirror fails, and says why.
	if !matches(`DEB-update-mirror=100\n`, con) || !matches(`apt: .*(Hash Sum mismatch|unexpected size)`, con) {
		t.Error("apt-get update accepted (or did not explain refusing) a Packages file changed after signing")
	}
	for _, re := range []string{`kmsg: .*cause=IMA-signature-required.*hello`, `kmsg: .*cause=invalid-signature.*hello`, `apt: no-manifest hello: \d+ files stay unlabeled`} {
		if !matches(re, con) {
			t.Errorf("no line matching %q on the console", re)
		}
	}
}

// TestFromDpkg: a root whose every package carries a manifest, with no
// label at all, is labeled offline by imaboot-relabel --from-dpkg (no
// private key) and then boots enforcing; the files of no signed package are
// listed, and only the test's own additions are signed with the key.
func TestFromDpkg(t *testing.T) {
	t.Parallel()
	root := baseRoot(t)
	kver := kernelRelease(t, root)
	bins := binaries(t)
	label := func(t *testing.T, tr *tree) {
		// The root's packages, as the signing mirror would serve them. The
		// kernel image is left unsigned: nothing of it is executed.
		out := inChroot(t, tr.dir, "dpkg-query", "-W", "-f", "${binary:Package} ${Package}=${Version}\n")
		infoName := map[string]string{} // Package=Version -> name of the info files
		var specs []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(l)
			if len(f) != 2 || strings.HasPrefix(f[1], "linux-image-") {
				continue
			}
			infoName[f[1]] = f[0]
			specs = append(specs, f[1])
		}
		debs := downloadDebs(t, specs...)
		signedDir := t.TempDir()
		for _, d := range debs {
			runLogged(t, "cp", d, signedDir)
		}
		runLogged(t, filepath.Join(bins, "imaboot-debsign"), "--key", tr.key.Key, "--cert", tr.key.CertPEM, signedDir)
		// What dpkg keeps of each signed package when it installs it: the
		// manifest beside the .list (the apt test shows dpkg doing it).
		for i, spec := range specs {
			signedDeb := filepath.Join(signedDir, filepath.Base(debs[i]))
			man, err := exec.Command("sh", "-c", `dpkg-deb --ctrl-tarfile "$1" | tar -xO ./imasigs`, "sh", signedDeb).Output()
			if err != nil || len(man) == 0 {
				t.Fatalf("%s: no imasigs member: %v", signedDeb, err)
			}
			write(t, tr.dir, "/var/lib/dpkg/info/"+infoName[spec]+".imasigs", string(man), 0o644)
		}
		rep := runLogged(t, filepath.Join(bins, "imaboot-relabel"), "--from-dpkg", "--root", tr.dir, "-q")
		t.Logf("imaboot-relabel --from-dpkg:\n%s", tail(rep, 3000))
		// The kernel image was left unsigned: its package is named, with its files.
		if !matches(`^no-manifest linux-image-\S+: \d+ files stay unlabeled`, rep) || !matches(`^summary: \d+ packages, [1-9]\d* labeled, \d+ verified, 0 mismatches, 2 packages without manifest`, rep) {
			t.Errorf("the --from-dpkg report does not name the unsigned kernel package or labeled nothing:\n%s", tail(rep, 3000))
		}
		// The test's own files and imaboot's, owned by no package: signed
		// with the key, as an integrator signs what it adds.
		own := []string{checkInit, "/usr/sbin/imaboot-init", "/usr/bin/imaboot-relabel"}
		args := []string{"--sign", "--key", tr.key.Key, "--cert", tr.key.CertPEM, "--root", tr.dir, "--progress", "never"}
		for _, p := range own {
			args = append(args, filepath.Join(tr.dir, p))
		}
		runLogged(t, filepath.Join(bins, "imaboot-relabel"), args...)
	}
	tr := prepare(t, root, options{policy: seedAppraisePolicy, label: label}, initramfsTools(kver))
	m := boot(t, tr, tr.initrds["initramfs-tools"], "")
	expect(t, m, `imaboot: ima-policy: IMA policy loaded, \d+ rules`)
	expect(t, m, `ROOTINIT: pid=\d+ init=systemd\n`)
	st := status(t, m)
	expect(t, m, `ROOTINIT-DONE`)
	con := m.Console()
	if st.Outcome != "done" {
		t.Errorf("status outcome %q, want done", st.Outcome)
	}
	if !strings.Contains(con, "RC-signed=0\n") {
		t.Error("/bin/true, labeled from its package's manifest, did not run")
	}
	if !strings.Contains(con, "RC-unsigned=126\n") {
		t.Error("the unlabeled copy of /bin/true was not refused")
	}
}

// matches reports whether a line of s matches re.
func matches(re, s string) bool {
	return regexp.MustCompile(`(?m)` + re).MatchString(s)
}
