package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/images"
	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
)

// shellIntegrityInit does what dracut's integrity module does
// (modules.d/98integrity: ima-keys-load.sh, ima-policy-load.sh), with
// busybox and keyctl: look for the kernel's .ima keyring, then for _ima in
// @u, else create it (imaboot-init makes the same three checks); add each
// certificate (keyctl padd: dracut uses evmctl import, which is slower);
// write the policy with cat (dracut's fallback after writing its path). The
// kernel log's timestamps (microseconds) time it.
const shellIntegrityInit = `#!/bin/busybox sh
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev
busybox mount -t securityfs securityfs /sys/kernel/security
echo "BENCH-START" > /dev/kmsg
if line=$(keyctl describe %keyring:.ima 2>/dev/null); then
	ring=${line%%:*}
else
	ring=$(keyctl search @u keyring _ima 2>/dev/null) || ring=$(keyctl newring _ima @u)
fi
for c in /etc/keys/ima/*; do keyctl padd asymmetric "" "$ring" < "$c" > /dev/null || echo "BENCH-FAILED cert $c"; done
cat /etc/imaboot/ima-policy > /sys/kernel/security/ima/policy || echo "BENCH-FAILED policy"
echo "BENCH-END" > /dev/kmsg
[ -e /sys/kernel/security/ima/policy ] && echo "BENCH-FAILED policy not loaded"
busybox dmesg | busybox grep BENCH- | busybox sed 's/^/KMSG /'
echo "BENCH-DONE"
busybox poweroff -f
`

// withLibraries lists a dynamically linked binary and the libraries ldd
// names, as initramfs mappings at the same paths.
func withLibraries(t testing.TB, bin string) []images.Mapping {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", bin, err)
	}
	m := []images.Mapping{{Src: bin, Dst: bin}}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			real, err := filepath.EvalSymlinks(f)
			if err != nil {
				t.Fatal(err)
			}
			m = append(m, images.Mapping{Src: real, Dst: f})
		}
	}
	return m
}

var (
	kmsgTime  = regexp.MustCompile(`KMSG \[\s*(\d+\.\d+)\] (BENCH-START|BENCH-END)`)
	floorTime = regexp.MustCompile(`FLOOR-MS (\d+\.\d+)`)
)

// floorInit builds integration/fixture/floorinit: the kernel calls of the
// certificate and policy steps and nothing else, the floor under both.
func floorInit(b *testing.B, dir string) string {
	repo, err := fixture.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	bins, err := fixture.BuildPackages(repo, dir, "./integration/fixture/floorinit")
	if err != nil {
		b.Fatal(err)
	}
	return bins["floorinit"]
}

// bootConsole boots an initramfs alone and returns the console once done
// matches.
func bootConsole(b *testing.B, k fixture.Kernel, initrd, done string) string {
	m, err := vm.Start(vm.Options{Kernel: k.Vmlinuz, Initrd: initrd, Append: "quiet"})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Stop()
	if _, err := m.Expect(regexp.MustCompile(done), bootWait); err != nil {
		b.Fatalf("%v\n%s", err, m.Console())
	}
	return m.Console()
}

// BenchmarkIntegritySteps compares, per kernel, imaboot-init's time from
// root mounted to ready to switch (certificates and policy; from its status
// file) with a shell init doing the same with busybox and keyctl (dracut's
// way; from the kernel log). Two boots per iteration: the policy can be
// written only once per boot. A third boot times the floor: the same
// kernel calls from a minimal init (integration/fixture/floorinit), the
// kernel's own share of both. Reported (medians): the times, the ratio
// (goal: under 0.2), the floor's ratio, the time imaboot-init spent
// reading the certificates and checking the policy before the root was
// mounted (wall time, shared with the kernel probing the disk), and the
// ratio with that time counted in.
func BenchmarkIntegritySteps(b *testing.B) {
	for _, k := range kernels {
		k := k
		b.Run(k.Short(), func(b *testing.B) {
			dir := b.TempDir()
			certs := map[string]string{}
			var maps []images.Mapping
			var sys signingKey
			for _, n := range []string{"a", "b", "c"} {
				key := newSigningKey(b, dir, n, "rsa")
				sys = key
				certs["/etc/keys/ima/"+n+".der"] = key.CertDER
				maps = append(maps, images.Mapping{Src: key.CertDER, Dst: "/etc/keys/ima/" + n + ".der"})
			}
			policy := filepath.Join(dir, "ima-policy")
			if err := os.WriteFile(policy, []byte(basicPolicy), 0o644); err != nil {
				b.Fatal(err)
			}
			certs["/etc/imaboot/ima-policy"] = policy
			maps = append(maps, images.Mapping{Src: policy, Dst: "/etc/imaboot/ima-policy"})
			floorInitrd := filepath.Join(dir, "floor.img")
			if _, err := images.BuildFile(floorInitrd, images.Spec{Init: floorInit(b, dir), Files: maps}); err != nil {
				b.Fatal(err)
			}
			maps = append(maps, images.Mapping{Src: "/bin/busybox", Dst: "/bin/busybox"})
			maps = append(maps, withLibraries(b, "/usr/bin/keyctl")...)
			shellInit := filepath.Join(dir, "shell-init")
			if err := os.WriteFile(shellInit, []byte(shellIntegrityInit), 0o755); err != nil {
				b.Fatal(err)
			}
			shellInitrd := filepath.Join(dir, "shell.img")
			if _, err := images.BuildFile(shellInitrd, images.Spec{Init: shellInit, Files: maps}); err != nil {
				b.Fatal(err)
			}
			var agent, inputs, shell, floor []float64
			for i := 0; i < b.N; i++ {
				m := boot(b, k, scenario{integrity: true, append: "root=/dev/vda", files: certs, root: signedRoot(b, sys, nil)})
				st := status(b, m)
				m.Stop()
				agent = append(agent, st.ReadyMS-st.RootMountedMS)
				inputs = append(inputs, st.InputsMS)

				con := bootConsole(b, k, shellInitrd, `BENCH-DONE`)
				if strings.Contains(con, "BENCH-FAILED") {
					b.Fatalf("the shell init failed:\n%s", con)
				}
				times := map[string]float64{}
				for _, t := range kmsgTime.FindAllStringSubmatch(con, -1) {
					times[t[2]], _ = strconv.ParseFloat(t[1], 64)
				}
				if len(times) != 2 {
					b.Fatalf("no BENCH timestamps in the kernel log:\n%s", con)
				}
				shell = append(shell, (times["BENCH-END"]-times["BENCH-START"])*1000)

				con = bootConsole(b, k, floorInitrd, `FLOOR-MS \d+\.\d+\r?\n`)
				fm := floorTime.FindStringSubmatch(con)
				if strings.Contains(con, "FLOOR-FAILED") || fm == nil {
					b.Fatalf("the floor init failed:\n%s", con)
				}
				f, _ := strconv.ParseFloat(fm[1], 64)
				floor = append(floor, f)
			}
			// Medians: one boot disturbed by the host's load moves a mean a lot.
			a, in, sh, fl := median(agent), median(inputs), median(shell), median(floor)
			b.ReportMetric(a, "ms-imaboot")
			b.ReportMetric(in, "ms-inputs")
			b.ReportMetric(sh, "ms-shell")
			b.ReportMetric(fl, "ms-floor")
			b.ReportMetric(a/sh, "ratio")
			// The best any init could do against this shell on this kernel.
			b.ReportMetric(fl/sh, "ratio-floor")
			// The inputs (certificates read, policy checked) are read while
			// the root is awaited, outside the window; counted in, this is
			// the ratio of all the work, wherever it ran.
			b.ReportMetric((a+in)/sh, "ratio-all")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
