package integration

// The seed profile is quiet on a normal boot (issue 19, item 4): no
// warning from imaboot's own checker, and no audit record per pseudo file
// root writes. The root is fixture.Root's busybox, signed (signedRoot);
// its /test.sh writes each bus's uevent file in sysfs as root, as udev
// does at every boot, and counts the kernel's "collect_data" audit records.

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/integration/fixture"
)

// seedWrites is /test.sh: writes to sysfs files owned by root (write-only
// ones: the kernel cannot read them back to hash them), then counts the
// audit records IMA logged for hashes it could not compute. Audit records
// reach the kernel log through printk_ratelimit (10 per 5 s, shared): on
// 6.1 the policy load's own records (one per rule) use it up, so the
// burst is raised first, or every record would be dropped and counted 0.
const seedWrites = `#!/bin/sh
echo 100000 > /proc/sys/kernel/printk_ratelimit_burst
for f in /sys/bus/*/uevent; do echo change > "$f"; done
dmesg | grep 'op=collect_data cause=failed' | head -3 | sed 's/^/SEED-AUDIT-RECORD /'
echo "SEED-AUDIT collect_data=$(dmesg | grep -c 'op=collect_data cause=failed') sysfs=$(dmesg | grep 'op=collect_data' | grep -c 'dev="sysfs"')"
`

// seedBeforeFix is the seed as generated before issue 19: its exclusions
// without dont_hash, and mask=MAY_READ.
func seedBeforeFix(seed string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(seed, "\n") {
		if !strings.HasPrefix(line, "dont_hash ") {
			b.WriteString(strings.Replace(line, "mask=^MAY_READ", "mask=MAY_READ", 1))
		}
	}
	return b.String()
}

var seedAuditRE = regexp.MustCompile(`SEED-AUDIT collect_data=(\d+) sysfs=(\d+)`)

// TestSeedProfileQuiet: the seed as generated loads with no warning on
// the console (its known bypasses are one clause of the ima-policy line)
// and root's writes to sysfs leave no "op=collect_data cause=failed" audit
// record. The control, the seed as it was before (no dont_hash, mask=
// MAY_READ), shows both: the mask-read warning at boot and the records,
// dev="sysfs" among them.
func TestSeedProfileQuiet(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		seed := generated(t, k, "seed")
		for _, tc := range []struct {
			name, policy string
			quiet        bool
		}{{"generated", seed, true}, {"before-fix", seedBeforeFix(seed), false}} {
			tc := tc
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				dir := t.TempDir()
				key := newSigningKey(t, dir, "rsa", "rsa")
				root := signedRoot(t, key, nil)
				root.Files["/test.sh"] = seedWrites
				m := boot(t, k, scenario{
					integrity: true,
					config:    "MODE=enforce\n",
					append:    "root=/dev/vda",
					files:     map[string]string{"/etc/keys/ima/rsa.der": key.CertDER, "/etc/imaboot/ima-policy": writeFile(t, dir, "seed", tc.policy)},
					root:      root,
				})
				sm := expect(t, m, seedAuditRE.String())
				expect(t, m, `ROOTINIT-DONE`)
				records, _ := strconv.Atoi(sm[1])
				sysfs, _ := strconv.Atoi(sm[2])
				con := m.Console()
				warned := regexp.MustCompile(`imaboot: warning: [^\n]*`).FindAllString(con, -1)
				if tc.quiet {
					if len(warned) != 0 || records != 0 {
						t.Errorf("seed as generated: warnings %q, %d collect_data audit record(s)", warned, records)
					}
					if !strings.Contains(con, "; the policy leaves 10 known bypasses: ") {
						t.Error("the seed's known bypasses are not summed up on the ima-policy line")
					}
				} else if sysfs == 0 || !strings.Contains(con, "mask=MAY_READ matches only opens for reading alone") {
					t.Errorf("control (seed before the fix): %d collect_data record(s), %d for sysfs, warnings %q; want records for sysfs and the mask-read warning", records, sysfs, warned)
				}
				if t.Failed() {
					return
				}
				first := regexp.MustCompile(`SEED-AUDIT-RECORD ([^\n]*)`).FindStringSubmatch(con)
				if first == nil {
					first = []string{"", "none"}
				}
				t.Logf("%s seed on %s: %d warning line(s), %d collect_data audit record(s) (%d sysfs) after root wrote every /sys/bus/*/uevent, the first: %s; boot %.1f s",
					tc.name, k.Release, len(warned), records, sysfs, first[1], time.Since(start).Seconds())
			})
		}
	})
}
