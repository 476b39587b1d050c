package distro

// Updates of the packages an enforcing machine cannot live without (libc6,
// dpkg, coreutils, bash), each a file replaced and used within the same
// dpkg run: the new loader by the old package's postrm, the new rm by
// dpkg's own cleanup, the new dpkg-deb by the next package.
//
// Disk layout (on top of the package comment's): /srv/signed is a flat apt
// repository whose .debs imaboot-debsign signed: the root's own libc6,
// coreutils, dpkg and bash rebuilt at two new versions (VERSION+imaboot1,
// VERSION+imaboot2), and imaboot-probe, whose postinst runs the program the
// package installs. The check script (/usr/local/sbin/imaboot-check) does
// the updates on the first boot, leaves /var/lib/imaboot-test/updated, and
// on the next boot of the same disk only checks.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/dpkglabel"
)

// essentials are the packages updated, rebuilt from the root's own .debs.
var essentials = []string{"libc6", "coreutils", "dpkg", "bash"}

// essentialsCheck is the check script around steps (shell): it prints
// "UPD-NAME=VALUE" lines; NAME_V1 and NAME_V2 hold each package's new
// versions (the versions file).
func essentialsCheck(steps string) string {
	return `#!/bin/sh
echo "ROOTINIT: pid=$$ init=$(cat /proc/1/comm)"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
. /usr/local/share/imaboot-test/versions
mark() { echo "UPD-$1=$2"; }
log() { sed "s/^/$1: /" /tmp/out.log; }
# checks STEP: the programs every update needs still run, a fresh unsigned
# copy of one is refused, and the kernel's word on anything refused.
checks() {
	/bin/true; mark "$1-true" $?
	/bin/sh -c 'exit 0'; mark "$1-sh" $?
	dpkg --version >/dev/null; mark "$1-dpkg" $?
	rm -f /usr/local/bin/unsigned-env; cp /usr/bin/env /usr/local/bin/unsigned-env
	/usr/local/bin/unsigned-env true 2>/dev/null; mark "$1-unsigned" $?
	dmesg | grep -E 'cause=' | grep -v unsigned-env | sed "s/^/kmsg-$1: /"
	dmesg -C
}
status() {
	for p in "$@"; do
		mark "$2-$p" "$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>&1)"
	done
}
mount -o remount,rw /
if [ -e /var/lib/imaboot-test/updated ]; then
	echo "UPD-phase=reboot"
	for p in libc6 coreutils dpkg bash; do mark "reboot-$p" "$(dpkg-query -W -f='${Status} ${Version}' $p)"; done
	checks reboot
	echo ROOTINIT-DONE
	busybox poweroff -f
fi
echo "UPD-phase=updates"
dmesg -C
apt() { apt-get -q -y -o Dpkg::Use-Pty=0 --no-install-recommends "$@" >/tmp/out.log 2>&1; rc=$?; log apt; return $rc; }
echo "deb [trusted=yes] file:/srv/signed ./" > /etc/apt/sources.list.d/local.list
apt update; mark update $?
` + steps + `
mkdir -p /var/lib/imaboot-test && touch /var/lib/imaboot-test/updated
sync
echo ROOTINIT-DONE
busybox poweroff -f
`
}

// essentialsSteps are the updates of the first boot without EVM.
const essentialsSteps = `
apt install libc6=$libc6_V1; mark libc6-apt $?
mark libc6-apt-libc6 "$(dpkg-query -W -f='${Status} ${Version}' libc6)"
checks libc6-apt

dpkg --unpack /srv/signed/coreutils_${coreutils_V1}_*.deb /srv/signed/libc6_${libc6_V2}_*.deb \
	/srv/signed/dpkg_${dpkg_V1}_*.deb /srv/signed/bash_${bash_V1}_*.deb >/tmp/out.log 2>&1; mark unpack4 $?; log dpkg
dpkg --configure -a >/tmp/out.log 2>&1; mark configure4 $?; log dpkg
for p in coreutils libc6 dpkg bash; do mark "unpack4-$p" "$(dpkg-query -W -f='${Status} ${Version}' $p)"; done
checks unpack4

apt install dpkg=$dpkg_V2 coreutils=$coreutils_V2 bash=$bash_V2; mark apt3 $?
for p in dpkg coreutils bash; do mark "apt3-$p" "$(dpkg-query -W -f='${Status} ${Version}' $p)"; done
imaboot-dpkg-hooks status >/tmp/out.log 2>&1; mark apt3-hooks $?; log hooks
checks apt3

dpkg -i /srv/signed/imaboot-probe_1_all.deb >/tmp/out.log 2>&1; mark dpkg-i $?; log dpkg
mark dpkg-i-probe "$(dpkg-query -W -f='${Status} ${Version}' imaboot-probe)"
mark dpkg-i-postinst "$(cat /var/lib/imaboot-probe.out 2>&1)"
checks dpkg-i

# The recovery of docs/debian-updates.md: an update made while the hooks
# were off leaves the new program unlabeled and its postinst refused.
rm -f /var/lib/imaboot-probe.out
imaboot-dpkg-hooks disable >/tmp/out.log 2>&1; mark recover-disable $?; log hooks
dpkg -i /srv/signed/imaboot-probe_2_all.deb >/tmp/out.log 2>&1; mark recover-unhooked $?; log dpkg
mark recover-unhooked-probe "$(dpkg-query -W -f='${Status} ${Version}' imaboot-probe)"
imaboot-dpkg-hooks enable >/tmp/out.log 2>&1; mark recover-enable $?; log hooks
imaboot-relabel --from-dpkg --pending >/tmp/out.log 2>&1 && dpkg --configure -a >>/tmp/out.log 2>&1; mark recover $?; log recover
mark recover-probe "$(dpkg-query -W -f='${Status} ${Version}' imaboot-probe)"
mark recover-postinst "$(cat /var/lib/imaboot-probe.out 2>&1)"
checks recover
`

// essentialsEVMSteps are the updates of the first boot with the EVM key.
const essentialsEVMSteps = `
apt install libc6=$libc6_V1; mark libc6-apt $?
mark libc6-apt-libc6 "$(dpkg-query -W -f='${Status} ${Version}' libc6)"
checks libc6-apt
`

// essentialsSetup adds the signed repository (each .deb named
// NAME_VERSION_ARCH.deb) and the versions file.
func essentialsSetup(t *testing.T, tr *tree) {
	bins := binaries(t)
	signed := filepath.Join(tr.dir, "srv", "signed")
	var specs, vars []string
	for _, p := range essentials {
		v := strings.TrimSpace(inChroot(t, tr.dir, "dpkg-query", "-W", "-f", "${Version}", p))
		specs = append(specs, p+"="+v)
	}
	built := []string{probeDeb(t, "1"), probeDeb(t, "2")}
	for i, deb := range downloadDebs(t, specs...) {
		_, v, _ := strings.Cut(specs[i], "=")
		for n := 1; n <= 2; n++ {
			nv := fmt.Sprintf("%s+imaboot%d", v, n)
			built = append(built, canonicalName(t, rebuildVersion(t, deb, nv, t.TempDir())))
			vars = append(vars, fmt.Sprintf("%s_V%d='%s'", essentials[i], n, nv))
		}
	}
	flatRepo(t, signed, built...)
	runLogged(t, filepath.Join(bins, "imaboot-debsign"), "--key", tr.key.Key, "--cert", tr.key.CertPEM, "--repo", signed)
	write(t, tr.dir, "/usr/local/share/imaboot-test/versions", strings.Join(vars, "\n")+"\n", 0o644)
	// Only the local repository: the guest has no network.
	os.Remove(filepath.Join(tr.dir, "etc/apt/sources.list"))
	installDpkgHooks(t, tr.dir)
}

// canonicalName renames deb to NAME_VERSION_ARCH.deb in its directory.
func canonicalName(t testing.TB, deb string) string {
	t.Helper()
	f := strings.Fields(runLogged(t, "dpkg-deb", "--show", "--showformat", "${Package} ${Version} ${Architecture}", deb))
	if len(f) != 3 {
		t.Fatalf("dpkg-deb --show %s: %q", deb, f)
	}
	out := filepath.Join(filepath.Dir(deb), f[0]+"_"+f[1]+"_"+f[2]+".deb")
	if err := os.Rename(deb, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// probeDeb builds imaboot-probe at version: /usr/bin/imaboot-probe and a
// postinst that runs it.
func probeDeb(t *testing.T, version string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "probe")
	write(t, dir, "DEBIAN/control", "Package: imaboot-probe\nVersion: "+version+"\nArchitecture: all\nMaintainer: imaboot tests <t@example.org>\nDescription: runs its own new program from its postinst\n", 0o644)
	write(t, dir, "DEBIAN/postinst", "#!/bin/sh\nset -e\n/usr/bin/imaboot-probe > /var/lib/imaboot-probe.out\n", 0o755)
	write(t, dir, "usr/bin/imaboot-probe", "#!/bin/sh\necho probe-ran "+version+"\n", 0o755)
	out := filepath.Join(t.TempDir(), "imaboot-probe_"+version+"_all.deb")
	runLogged(t, "dpkg-deb", "--root-owner-group", "-b", dir, out)
	return out
}

// checkEssentials boots the tree twice on one disk: the updates, then the
// same machine again. want are the UPD- lines of the first boot.
func checkEssentials(t *testing.T, tr tree, want map[string]string) {
	img := diskCopy(t, tr)
	t0 := time.Now()
	m := bootDisk(t, tr, img, tr.initrds["initramfs-tools"], "")
	expect(t, m, `imaboot: ima-policy: IMA policy loaded, \d+ rules`)
	expect(t, m, `UPD-phase=updates`)
	expect(t, m, `ROOTINIT-DONE`)
	if err := m.Wait(bootWait); err != nil {
		t.Fatal(err)
	}
	con := m.Console()
	t.Logf("updates boot in %v", time.Since(t0).Round(time.Second))
	for k, v := range want {
		if !strings.Contains(con, fmt.Sprintf("UPD-%s=%s\n", k, v)) {
			t.Errorf("want UPD-%s=%s on the console", k, v)
		}
	}
	if t.Failed() {
		t.Logf("console of the updates boot:\n%s", con)
		return
	}
	t1 := time.Now()
	m2 := bootDisk(t, tr, img, tr.initrds["initramfs-tools"], "")
	expect(t, m2, `imaboot: ima-policy: IMA policy loaded, \d+ rules`)
	expect(t, m2, `UPD-phase=reboot`)
	expect(t, m2, `ROOTINIT-DONE`)
	con2 := m2.Console()
	t.Logf("reboot in %v", time.Since(t1).Round(time.Second))
	for _, k := range []string{"true", "sh", "dpkg"} {
		if !strings.Contains(con2, "UPD-reboot-"+k+"=0\n") {
			t.Errorf("after the reboot: want UPD-reboot-%s=0", k)
		}
	}
	if !strings.Contains(con2, "UPD-reboot-unsigned=126\n") {
		t.Error("after the reboot: an unsigned copy of env was not refused")
	}
	if !matches(`^UPD-reboot-libc6=install ok installed .*\+imaboot\d$`, con2) {
		t.Error("after the reboot: libc6 is not the new version, installed")
	}
	if t.Failed() {
		t.Logf("console of the reboot:\n%s", con2)
	}
}

// stepWant is what every step of the updates boot must print.
func stepWant(want map[string]string, step string) {
	want[step+"-true"] = "0"
	want[step+"-sh"] = "0"
	want[step+"-dpkg"] = "0"
	want[step+"-unsigned"] = "126"
}

// TestEssentialUpdates: under the seed policy's appraise rules, with
// imaboot-dpkg-hooks enabled, libc6 through apt; coreutils, libc6, dpkg and
// bash in one dpkg --unpack then dpkg --configure -a; dpkg, coreutils and
// bash through apt; dpkg -i of a package whose postinst runs its new
// program; the recovery of docs/debian-updates.md after an update made with
// the hooks off. After each, the new versions are installed, /bin/true,
// /bin/sh and dpkg run and an unsigned copy of a program is refused; then
// the same disk boots enforcing again.
func TestEssentialUpdates(t *testing.T) {
	t.Parallel()
	tr, v := essentialsTree(t, false, essentialsSteps)
	want := map[string]string{
		"update":          "0",
		"libc6-apt":       "0",
		"libc6-apt-libc6": "install ok installed " + v["libc6"][0],
		"unpack4":         "0",
		"configure4":      "0",
		"apt3":            "0",
		"apt3-hooks":      "0",
		"dpkg-i":          "0",
		"dpkg-i-probe":    "install ok installed 1",
		"dpkg-i-postinst": "probe-ran 1",
		// Hooks off: the unlabeled postinst is refused; the recovery works.
		"recover-disable":        "0",
		"recover-unhooked":       "1",
		"recover-unhooked-probe": "install ok half-configured 2",
		"recover-enable":         "0",
		"recover":                "0",
		"recover-probe":          "install ok installed 2",
		"recover-postinst":       "probe-ran 2",
	}
	for _, p := range essentials {
		want["unpack4-"+p] = "install ok installed " + v[p][0]
		if p == "libc6" {
			want["unpack4-"+p] = "install ok installed " + v[p][1]
		}
	}
	for _, p := range []string{"dpkg", "coreutils", "bash"} {
		want["apt3-"+p] = "install ok installed " + v[p][1]
	}
	for _, s := range []string{"libc6-apt", "unpack4", "apt3", "dpkg-i", "recover"} {
		stepWant(want, s)
	}
	checkEssentials(t, tr, want)
}

// TestEssentialUpdatesEVM: the libc6 update through apt on a machine whose
// EVM HMAC key is loaded (master key sealed in the swtpm), then the same
// disk boots again.
func TestEssentialUpdatesEVM(t *testing.T) {
	t.Parallel()
	tr, v := essentialsTree(t, true, essentialsEVMSteps)
	want := map[string]string{
		"update":          "0",
		"libc6-apt":       "0",
		"libc6-apt-libc6": "install ok installed " + v["libc6"][0],
	}
	stepWant(want, "libc6-apt")
	checkEssentials(t, tr, want)
}

// essentialsTree prepares the base root with the signed repository and
// the check script around steps; evm seals the EVM key and adds the policy
// rule imaboot-dpkg-hooks enable names for machines with an EVM HMAC key
// (files of group imaboot-label are created "new"). It returns the tree
// and each package's two new versions.
func essentialsTree(t *testing.T, evm bool, steps string) (tree, map[string][2]string) {
	root := baseRoot(t)
	kver := kernelRelease(t, root)
	var v map[string][2]string
	setup := func(t *testing.T, tr *tree) {
		essentialsSetup(t, tr)
		v = readVersions(t, tr.dir)
		if !evm {
			return
		}
		gid := dpkglabel.GroupID(tr.dir, dpkglabel.LabelGroup)
		if gid < 0 {
			t.Fatalf("imaboot-dpkg-hooks enable did not create the group %s", dpkglabel.LabelGroup)
		}
		write(t, tr.dir, "/etc/imaboot/ima-policy", seedAppraisePolicy+fmt.Sprintf("appraise func=FILE_CHECK fgroup=%d\n", gid), 0o644)
	}
	tr := prepare(t, root, options{evm: evm, policy: seedAppraisePolicy, check: essentialsCheck(steps), setup: setup}, initramfsTools(kver))
	return tr, v
}

// readVersions reads back the versions file essentialsSetup wrote.
func readVersions(t *testing.T, root string) map[string][2]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "usr/local/share/imaboot-test/versions"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, val, _ := strings.Cut(l, "=")
		name, n, _ := strings.Cut(k, "_V")
		pair := out[name]
		pair[map[string]int{"1": 0, "2": 1}[n]] = strings.Trim(val, "'")
		out[name] = pair
	}
	return out
}
