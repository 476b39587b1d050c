package distro

// docs/debian.md, run as written. The page's blocks marked
// "<!-- doc-test: NAME -->" are extracted and run: the signing host's in a
// chroot of its own (a copy of the debootstrapped root with openssl, gpg,
// apt-utils and imaboot's package), the machine's in another copy (chroot)
// and then in that root booted under QEMU, enforcing.
//
// Disk layout (on top of the package comment's): the root is the stock
// bookworm-base after the page's machine blocks (the signed flat repository
// as its only source, imaboot and the key package installed from it, every
// package reinstalled signed, the seed policy, MODE=enforce, the initramfs
// rebuilt), plus what only the test adds: /srv/www/acme is the signing
// host's repository (the guest reaches it as PACKAGES=file:/srv/www/acme),
// /root/doc holds the page's blocks as NAME.sh, the public key and two
// unsigned packages, /usr/local/bin/unsigned-true is an unlabeled copy of
// /bin/true, the check script (signed with the release key, as an
// integrator signs what it adds) and its systemd units,
// /etc/apt/apt.conf.d/99doc-test answers apt's questions (Assume-Yes), and
// initramfs-tools takes only the modules the VM needs (MODULES=list, the
// virtio ones in /etc/initramfs-tools/modules): the page runs
// update-initramfs, and so do the kernel and key packages, six times in
// all; with every module each build takes minutes under TCG on a busy
// machine, and what is tested is imaboot's hook. The repository holds every
// package of the root at its version, imaboot 1.0, hello and sgml-base;
// before the first boot the signing host publishes updates: imaboot 1.1,
// hello and the root's kernel package rebuilt at new versions, and
// imaboot-probe (its postinst runs its program). Boot 1 (the initramfs the
// page built) installs a package with maintainer scripts, runs the page's
// update block (imaboot's own upgrade among them), installs imaboot-probe
// through the new shim and hook, runs the page's initramfs block, then
// tries two unsigned packages. From boot 2 on each boot takes the kernel
// and initramfs from the disk as the boot before left them: boot 2 checks,
// then makes the broken update (the dpkg hooks disabled, libsystemd-shared
// reinstalled, so unlabeled); boot 3 is stuck (systemd cannot map the
// library); boot 4 is the page's break-glass boot, which runs the page's
// repair block; boot 5 enforces again.
//
// The kernel update is the root's own 6.1 package at a new version:
// bookworm-backports' 6.12.95 kernel (the way to 6.12 on Debian 12)
// double-faults early under this QEMU's TCG (seen with -cpu max and qemu64,
// two boots in three), and the trixie kernel is not Debian 12's.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/initagent"
	"github.com/imaboot/imaboot/integration/vm"
)

// docBlocks returns the blocks of docs/debian.md marked for the test, by
// name: the fenced block after each "<!-- doc-test: NAME -->" line.
func docBlocks(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repo, "docs", "debian.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	marker := regexp.MustCompile(`^<!-- doc-test: ([a-z-]+) -->$`)
	blocks := map[string]string{}
	var name string
	var in bool
	var body strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case in && strings.HasPrefix(l, "```"):
			blocks[name] = body.String()
			in, name = false, ""
			body.Reset()
		case in:
			body.WriteString(l + "\n")
		case name != "" && strings.HasPrefix(l, "```"):
			in = true
		case name != "":
			t.Fatalf("docs/debian.md: the doc-test marker %s is not followed by a fenced block", name)
		default:
			if m := marker.FindStringSubmatch(l); m != nil {
				if _, dup := blocks[m[1]]; dup {
					t.Fatalf("docs/debian.md: two blocks named %s", m[1])
				}
				name = m[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"signing-keys", "signing-repo", "machine-sources", "machine-install", "machine-reinstall", "machine-enforce", "machine-update", "machine-initramfs", "machine-break-glass"} {
		if blocks[want] == "" {
			t.Fatalf("docs/debian.md has no doc-test block %s", want)
		}
	}
	return blocks
}

// docCheck runs under the root's systemd (checkTarget). Phase 1 (boot 1):
// a signed package with maintainer scripts installed, the page's update
// blocks, unsigned packages; phase 2 (boot 2, the new kernel): checks, then
// the broken update; boot 3 never gets here; phase 4 (the break-glass
// boot): the page's repair block; phase 5: checks. Every result is a
// "DOC-name=value" line; each block's output is prefixed with its name.
const docCheck = `#!/bin/sh
echo "ROOTINIT: pid=$$ init=$(cat /proc/1/comm)"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive PACKAGES=file:/srv/www/acme
mount -o remount,rw /
mark() { echo "DOC-$1=$2"; }
logged() { name=$1; shift; "$@" >/tmp/$name.log 2>&1; rc=$?; sed "s/^/$name: /" /tmp/$name.log; mark "$name" $rc; }
block() { t=$(date +%s); logged "$1" sh -ec "cd /root/doc && . ./$1.sh"; echo "took: $1 $(($(date +%s) - t)) s"; }
echo ROOTINIT-STATUS-BEGIN
cat /run/imaboot/status.json
echo
echo ROOTINIT-STATUS-END
mark kernel "$(uname -r)"
/usr/local/bin/unsigned-true; mark unsigned-true $?
/bin/true; mark signed-true $?
case $(cat /proc/cmdline) in
*imaboot-doc.phase=1*)
	logged install-sgml-base apt-get install sgml-base
	test -s /var/lib/sgml-base/supercatalog; mark supercatalog $?
	shim=/usr/lib/imaboot/imaboot-dpkg-deb
	before=$(stat -c %i $shim /usr/bin/imaboot-relabel)
	block machine-update
	# imaboot's own upgrade replaced the shim and the labeler (new inodes),
	# each signed by the release key; the next package goes through them.
	[ "$(stat -c %i $shim /usr/bin/imaboot-relabel)" != "$before" ]; mark self-replaced $?
	logged self-labels imaboot-relabel verify --cert /etc/keys/ima/acme.der --progress never \
		$shim /usr/bin/imaboot-relabel /usr/sbin/imaboot-dpkg-hooks /usr/share/initramfs-tools/hooks/imaboot
	logged next-package apt-get install imaboot-probe
	mark next-package-postinst "$(cat /var/lib/imaboot-probe.out 2>&1)"
	imaboot-probe >/dev/null; mark next-package-run $?
	block machine-initramfs
	mark imaboot-version "$(dpkg-query -W -f '${Version}' imaboot)"
	mark kernel-version "$(dpkg-query -W -f '${Version}' linux-image-$(uname -r))"
	mark hello-version "$(dpkg-query -W -f '${Version}' hello)"
	hello >/dev/null; mark hello $?
	logged hooks-status imaboot-dpkg-hooks status
	for k in $(linux-version list); do
		mark "initrd-$k" "$(lsinitramfs /boot/initrd.img-$k | grep -c '^usr/sbin/imaboot-init$')"
	done
	cp /bin/true /root/unsigned-new
	/root/unsigned-new; mark unsigned-new $?
	logged unsigned-plain apt-get install /root/doc/unsigned/imaboot-doctest-plain_1_all.deb
	/usr/bin/imaboot-doctest-plain; mark unsigned-plain-run $?
	logged unsigned-preinst apt-get install /root/doc/unsigned/imaboot-doctest-preinst_1_all.deb
	mark unsigned-preinst-status "$(dpkg-query -W -f '${db:Status-Abbrev}' imaboot-doctest-preinst 2>/dev/null)"
	test -e /usr/bin/imaboot-doctest-preinst; mark unsigned-preinst-file $?
	;;
*imaboot-doc.phase=2*)
	mark kernel-version "$(dpkg-query -W -f '${Version}' linux-image-$(uname -r))"
	hello >/dev/null; mark hello $?
	/root/unsigned-new; mark unsigned-new $?
	logged hooks-status imaboot-dpkg-hooks status
	# The broken update: the hooks off, a library systemd maps reinstalled
	# (unlabeled); the running system goes on, the next boot cannot.
	logged broken-disable imaboot-dpkg-hooks disable
	logged broken-update apt-get install --reinstall libsystemd-shared
	;;
*imaboot-doc.phase=4*)
	grep imaboot-break-glass /sys/kernel/security/ima/ascii_runtime_measurements | sed 's/^/marker: /'
	block machine-break-glass
	;;
*imaboot-doc.phase=5*)
	hello >/dev/null; mark hello $?
	/root/unsigned-new; mark unsigned-new $?
	logged hooks-status imaboot-dpkg-hooks status
	;;
esac
dmesg | grep -E 'cause=[a-zA-Z-]+' | sed 's/^/kmsg: /'
echo ROOTINIT-DONE
busybox poweroff -f
`

// TestDebianDoc: docs/debian.md followed literally. A stock Debian 12
// root is moved to a signed repository that holds every package it runs
// plus imaboot's own and the key package, gets imaboot from it, every
// package reinstalled signed and labeled, and boots enforcing the seed
// policy; under enforcement it installs a package with maintainer scripts,
// takes an update of imaboot itself, of a package and of its kernel package
// (full-upgrade), installs the next package through imaboot's new shim and
// hook, rebuilds its initramfs, and boots enforcing again from what the
// updates installed. Then an update made with the hooks off leaves it
// unable to boot; the page's break-glass boot (loud: console, status file,
// measurement list) and repair bring it back, and it boots enforcing again.
// An unsigned program is refused at every enforcing stage (and runs in the
// break-glass boot); unsigned packages behave as the page says.
func TestDebianDoc(t *testing.T) {
	t.Parallel()
	blocks := docBlocks(t)
	t0 := time.Now()
	phase := func(what string) {
		t.Logf("%s: %v", what, time.Since(t0).Round(time.Second))
		t0 = time.Now()
	}

	// The packages the machine runs, and those of the updates.
	root := workCopy(t, baseRoot(t))
	kver := kernelRelease(t, root)
	kpkg := "linux-image-" + kver
	kv := strings.TrimSpace(inChroot(t, root, "dpkg-query", "-W", "-f", "${Version}", kpkg))
	specs := strings.Split(strings.TrimSpace(inChroot(t, root, "dpkg-query", "-W", "-f", "${Package}=${Version}\n")), "\n")
	initial := append(downloadDebs(t, specs...), downloadDebs(t, "hello="+helloV1, "sgml-base")...)
	initial = append(initial, imabootDeb(t, "1.0"))
	kv2 := kv + "+imaboot1"
	updates := []string{
		imabootDeb(t, "1.1"),
		rebuildVersion(t, downloadDebs(t, "hello="+helloV1)[0], helloV2, t.TempDir()),
		rebuildVersion(t, downloadDebs(t, kpkg+"="+kv)[0], kv2, t.TempDir()),
		probeDeb(t, "1"),
	}
	phase("packages downloaded and built")

	// The signing host: Debian 12 with the tools the page names and imaboot.
	host := workCopy(t, baseRoot(t))
	inChroot(t, host, "apt-get", "install", "-y", "-q", "--no-install-recommends", "openssl", "gpg", "gpg-agent", "apt-utils")
	runLogged(t, "cp", imabootDeb(t, "1.0"), filepath.Join(host, "tmp"))
	inChroot(t, host, "dpkg", "-i", "/tmp/"+filepath.Base(imabootDeb(t, "1.0")))
	t.Cleanup(func() {
		// The gpg-agent the page's gpg commands started.
		chrootTry(host, "gpgconf", "--kill", "all")
	})
	signingHost := func(name string) {
		t.Helper()
		if out, err := chrootTry(host, "sh", "-ec", blocks[name]); err != nil {
			t.Fatalf("docs/debian.md block %s on the signing host: %v\n%s", name, err, tail(out, 4000))
		}
	}
	publish := func(debs []string) {
		t.Helper()
		flatRepo(t, filepath.Join(host, "srv", "debs"), debs...)
		signingHost("signing-repo")
		srv := filepath.Join(root, "srv", "www", "acme")
		os.RemoveAll(srv)
		os.MkdirAll(filepath.Dir(srv), 0o755)
		runLogged(t, "cp", "-a", filepath.Join(host, "srv", "www", "acme"), srv)
	}
	phase("signing host: installed")
	signingHost("signing-keys")
	publish(initial)
	phase("signing host: keys, repository signed")

	// The machine, in a chroot of its disk.
	doc := filepath.Join(root, "root", "doc")
	for name, text := range blocks {
		write(t, root, "/root/doc/"+name+".sh", text, 0o644)
	}
	runLogged(t, "cp", filepath.Join(host, "etc", "imaboot", "mirror-keyring.gpg"), doc)
	write(t, root, "/etc/apt/apt.conf.d/99doc-test", "APT::Get::Assume-Yes \"true\";\nDpkg::Use-Pty \"0\";\n", 0o644)
	inChroot(t, root, "sed", "-i", "s/^MODULES=.*/MODULES=list/", "/etc/initramfs-tools/initramfs.conf")
	write(t, root, "/etc/initramfs-tools/modules", "virtio_pci\nvirtio_blk\n", 0o644)
	machine := func(name string) string {
		t.Helper()
		out, err := chrootTry(root, "sh", "-ec", "cd /root/doc && PACKAGES=file:/srv/www/acme && export PACKAGES && . ./"+name+".sh")
		if err != nil {
			t.Fatalf("docs/debian.md block %s on the machine (chroot): %v\n%s", name, err, tail(out, 4000))
		}
		return out
	}
	machine("machine-sources")
	machine("machine-install")
	if st, err := chrootTry(root, "imaboot-dpkg-hooks", "status"); err != nil {
		t.Errorf("the dpkg hooks are not enabled after apt-get install imaboot: %v\n%s", err, st)
	}
	phase("machine: signed repository, imaboot installed")
	out := machine("machine-reinstall")
	if !matches(`^summary: \d+ packages, \d+ labeled, \d+ verified, 0 mismatches, 0 packages without manifest`, out) {
		t.Errorf("imaboot-relabel --from-dpkg after the reinstall does not end with 0 mismatches, 0 packages without manifest:\n%s", tail(out, 3000))
	}
	phase("machine: every package reinstalled signed and labeled")
	// A package to upgrade later, installed as the admin would.
	inChroot(t, root, "apt-get", "install", "-q", "hello")
	machine("machine-enforce")
	if !strings.Contains(inChroot(t, root, "lsinitramfs", "/boot/initrd.img-"+kver), "usr/sbin/imaboot-init") {
		t.Fatal("the initramfs the page built has no imaboot-init")
	}
	phase("machine: policy, MODE=enforce, initramfs")

	// What only the test adds to the machine.
	write(t, root, checkInit, docCheck, 0o755)
	write(t, root, "/etc/systemd/system/"+checkTarget, checkTargetUnit, 0o644)
	write(t, root, "/etc/systemd/system/imaboot-check.service", checkServiceUnit, 0o644)
	runLogged(t, filepath.Join(binaries(t), "imaboot-relabel"), "--sign", "--key", filepath.Join(host, "etc/imaboot/release.key"),
		"--cert", filepath.Join(host, "etc/imaboot/release.pem"), "--progress", "never", filepath.Join(root, checkInit))
	runLogged(t, "cp", filepath.Join(root, "bin/true"), filepath.Join(root, "usr/local/bin/unsigned-true"))
	unsignedDebs(t, filepath.Join(doc, "unsigned"))

	// The signing host publishes updates.
	publish(updates)
	phase("signing host: updates published")

	image := filepath.Join(t.TempDir(), "root.img")
	runLogged(t, "mkfs.ext4", "-q", "-F", "-d", root, "-L", rootLabel, image, fmt.Sprintf("%dM", duMB(t, root)*13/10+600))
	phase("disk image")

	m := docBoot(t, image, filepath.Join(root, "boot", "vmlinuz-"+kver), filepath.Join(root, "boot", "initrd.img-"+kver), 1)
	con1 := docExpectBoot(t, m, true)
	phase("boot 1: install, full-upgrade, update-initramfs")
	docMarks(t, con1, map[string]string{
		"kernel":                  kver,
		"unsigned-true":           "126",
		"signed-true":             "0",
		"install-sgml-base":       "0",
		"supercatalog":            "0", // sgml-base's postinst ran its own update-catalog
		"machine-update":          "0",
		"machine-initramfs":       "0",
		"imaboot-version":         "1.1",
		"kernel-version":          kv2,
		"hello-version":           helloV2,
		"hello":                   "0",
		"hooks-status":            "0",
		"self-replaced":           "0",
		"self-labels":             "0",
		"next-package":            "0",
		"next-package-postinst":   "probe-ran 1", // its postinst ran its new program
		"next-package-run":        "0",
		"initrd-" + kver:          "1",
		"unsigned-new":            "126",
		"unsigned-plain":          "0",
		"unsigned-plain-run":      "126",
		"unsigned-preinst-file":   "1",
		"unsigned-preinst-status": "in ", // selected, not installed
	})
	if !matches(`^DOC-unsigned-preinst=[1-9]\d*$`, con1) {
		t.Error("apt-get install of the unsigned package with a preinst succeeded")
	}
	for _, re := range []string{
		`^unsigned-plain: no-manifest imaboot-doctest-plain: \d+ files stay unlabeled`,
		`^unsigned-preinst: .*unable to execute new imaboot-doctest-preinst package pre-installation script.*Permission denied`,
		`^kmsg: .*cause=IMA-signature-required.*unsigned-true`,
		// The new post-invoke hook ran after the next package.
		`^next-package: summary: 1 packages`,
	} {
		if !matches(re, con1) {
			t.Errorf("boot 1: no line matching %q", re)
		}
	}

	// From boot 2 on, each boot takes the kernel and initramfs from the
	// disk as the boot before left them, as the boot loader would.
	fromDisk := func(phase int, args ...string) *vm.Machine {
		t.Helper()
		boot := t.TempDir()
		for _, f := range []string{"vmlinuz-" + kver, "initrd.img-" + kver} {
			runLogged(t, "debugfs", "-R", "dump /boot/"+f+" "+filepath.Join(boot, f), image)
			if st, err := os.Stat(filepath.Join(boot, f)); err != nil || st.Size() == 0 {
				t.Fatalf("the disk holds no /boot/%s before boot %d: %v", f, phase, err)
			}
		}
		return docBoot(t, image, filepath.Join(boot, "vmlinuz-"+kver), filepath.Join(boot, "initrd.img-"+kver), phase, args...)
	}
	m = fromDisk(2)
	con2 := docExpectBoot(t, m, true)
	phase("boot 2: the broken update")
	docMarks(t, con2, map[string]string{
		"kernel":         kver,
		"kernel-version": kv2,
		"unsigned-true":  "126",
		"signed-true":    "0",
		"hello":          "0",
		"unsigned-new":   "126",
		"hooks-status":   "0",
		"broken-disable": "0",
		"broken-update":  "0",
	})
	if t.Failed() {
		return
	}

	// Boot 3: stuck. systemd cannot map its library, the kernel panics.
	m = fromDisk(3)
	expect(t, m, `imaboot: ima-policy: IMA policy loaded, \d+ rules`)
	if err := m.Wait(bootWait); err != nil {
		t.Fatalf("boot 3 (stuck) did not end by itself: %v", err)
	}
	con3 := m.Console()
	phase("boot 3: stuck")
	if strings.Contains(con3, "ROOTINIT") {
		t.Fatal("boot 3: the root's init ran: the broken update did not break the boot")
	}
	// libsystemd-shared ships libsystemd-core and libsystemd-shared;
	// systemd maps core first (seen: "libsystemd-core-252.so: failed to map
	// segment from shared object").
	for _, want := range []string{"/sbin/init: error while loading shared libraries: libsystemd-", "Attempted to kill init"} {
		if !strings.Contains(con3, want) {
			t.Errorf("boot 3: %q not on the console: the stuck boot does not say why", want)
		}
	}

	// Boot 4: the break-glass, and the page's repair.
	m = fromDisk(4, "imaboot.break_glass=yes")
	con4 := docExpectBoot(t, m, false)
	phase("boot 4: break-glass, repaired")
	docMarks(t, con4, map[string]string{
		"unsigned-true":       "0", // nothing enforced, as the page says
		"machine-break-glass": "0",
	})
	for _, re := range []string{
		`imaboot: warning: BREAK-GLASS BOOT \(imaboot.break_glass\): nothing is enforced in this boot`,
		`^marker: 10 [0-9a-f]+ ima-sig sha256:[0-9a-f]+ /run/imaboot/probe/imaboot-break-glass`,
		`^machine-break-glass: summary: \d+ packages, [1-9]\d* labeled, \d+ verified, 0 mismatches`,
	} {
		if !matches(re, con4) {
			t.Errorf("boot 4: no line matching %q", re)
		}
	}

	// Boot 5: enforcing again.
	m = fromDisk(5)
	con5 := docExpectBoot(t, m, true)
	phase("boot 5: enforcing again")
	docMarks(t, con5, map[string]string{
		"unsigned-true": "126",
		"signed-true":   "0",
		"hello":         "0",
		"unsigned-new":  "126",
		"hooks-status":  "0",
	})
}

// docBoot boots the disk image in place (boot 2 sees boot 1's changes).
func docBoot(t *testing.T, image, kernel, initrd string, phase int, args ...string) *vm.Machine {
	t.Helper()
	return vm.StartT(t, fmt.Sprintf("boot %d", phase), vm.Options{
		Kernel: kernel,
		Initrd: initrd,
		Disks:  []string{image},
		Memory: 1024,
		// no_timer_check: on a loaded host TCG's timer can miss the kernel's
		// IO-APIC check, which then panics at 0 s (seen by the other distro tests).
		Append: strings.Join(append([]string{fmt.Sprintf("root=LABEL=%s ro systemd.unit=%s rd.shell=0 quiet no_timer_check imaboot-doc.phase=%d", rootLabel, checkTarget, phase)}, args...), " "),
	})
}

// docExpectBoot waits for the check script's end and returns the console.
// An enforcing boot's every step succeeded and the kernel refused the
// agent's unsigned canary; a break-glass boot (enforcing false) says that
// it enforces nothing.
func docExpectBoot(t *testing.T, m *vm.Machine, enforcing bool) string {
	t.Helper()
	if enforcing {
		expect(t, m, `imaboot: ima-policy: IMA policy loaded, \d+ rules`)
	} else {
		expect(t, m, `imaboot: ima-policy: break-glass: appraise rules left out; IMA policy loaded, \d+ rules`)
	}
	expect(t, m, `ROOTINIT: pid=\d+ init=systemd\n`)
	st := status(t, m)
	// The updates and the initramfs builds under TCG take minutes.
	if _, err := m.Expect(regexp.MustCompile(`ROOTINIT-DONE`), 3*bootWait); err != nil {
		t.Fatal(err)
	}
	switch {
	case enforcing && (st.Outcome != "done" || st.Mode != initagent.Enforce || st.BreakGlass || st.Enforcement != initagent.EnforcementProven || stepResult(st, "ima-policy") != initagent.ResultOK):
		t.Errorf("status: outcome %q mode %q break-glass %v enforcement %q ima-policy %q, want done enforce false proven ok",
			st.Outcome, st.Mode, st.BreakGlass, st.Enforcement, stepResult(st, "ima-policy"))
	case !enforcing && (st.Outcome != "done" || !st.BreakGlass || st.Enforcement != initagent.EnforcementOff):
		t.Errorf("break-glass status: outcome %q break-glass %v enforcement %q, want done true off", st.Outcome, st.BreakGlass, st.Enforcement)
	}
	m.Wait(bootWait)
	return m.Console()
}

// docMarks checks the DOC-name=value lines.
func docMarks(t *testing.T, con string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if !strings.Contains(con, fmt.Sprintf("DOC-%s=%s\n", k, v)) {
			t.Errorf("want DOC-%s=%s on the console", k, v)
		}
	}
}

// unsignedDebs writes two packages no signing host signed into dir: one
// with a program and no maintainer script, one with a preinst.
func unsignedDebs(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"plain", "preinst"} {
		pkg := "imaboot-doctest-" + name
		src := filepath.Join(t.TempDir(), pkg)
		write(t, src, "DEBIAN/control", "Package: "+pkg+"\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: unsigned test package\n", 0o644)
		write(t, src, "usr/bin/"+pkg, "#!/bin/sh\necho "+pkg+"\n", 0o755)
		if name == "preinst" {
			write(t, src, "DEBIAN/preinst", "#!/bin/sh\nexit 0\n", 0o755)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		runLogged(t, "dpkg-deb", "--root-owner-group", "-b", src, filepath.Join(dir, pkg+"_1_all.deb"))
	}
}
