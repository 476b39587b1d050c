package integration

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/integration/fixture"
	"github.com/imaboot/imaboot/integration/vm"
)

// expectHalt checks that the boot stopped with exactly the one-line reason
// and that the root's init never ran.
func expectHalt(t *testing.T, m *vm.Machine, reason string) {
	t.Helper()
	expect(t, m, `imaboot: error: enforce: .*; boot stopped before the switch`)
	expect(t, m, `System halted`)
	con := m.Console()
	if !strings.Contains(con, reason) {
		t.Errorf("halt line does not say %q", reason)
	}
	if strings.Contains(con, "ROOTINIT") {
		t.Error("the root's init ran after a failure in enforce mode")
	}
}

func TestBadInputHaltsInEnforce(t *testing.T) {
	junk := make([]byte, 8<<20)
	rand.Read(junk)
	cases := []struct {
		name   string
		s      scenario
		reason string
	}{
		{"root-never-appears", scenario{append: "root=UUID=00000000-1111-2222-3333-444444444444 imaboot.root_timeout=3"},
			`imaboot: error: enforce: step mount-root failed: root device "UUID=00000000-1111-2222-3333-444444444444" did not appear within 3s`},
		{"missing-module", scenario{append: "root=/dev/vda", config: "MODULES=no_such_module\n"},
			"imaboot: error: enforce: step load-modules failed: module no_such_module not found in /lib/modules/"},
		{"root-not-a-filesystem", scenario{append: "root=/dev/vdb", extra: [][]byte{junk}},
			"imaboot: error: enforce: step mount-root failed: not a file system: /dev/vdb"},
		{"malformed-config", scenario{append: "root=/dev/vda", config: "MODE=enforce\nthis line is wrong\n", broken: true},
			`imaboot: error: enforce: step config failed: configuration /etc/imaboot/imaboot.conf:2: not a KEY=value line: "this line is wrong"`},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
				expectHalt(t, boot(t, k, tc.s), tc.reason)
			})
		})
	}
}

// TestPermissiveContinues: the same missing module in permissive mode is a
// warning, and the root's init runs.
func TestPermissiveContinues(t *testing.T) {
	forEachKernel(t, func(t *testing.T, k fixture.Kernel) {
		m := boot(t, k, scenario{append: "root=/dev/vda imaboot.mode=permissive", config: "MODULES=no_such_module\n"})
		expect(t, m, `imaboot: warning: permissive: step load-modules failed, continuing: .*no_such_module`)
		expect(t, m, `ROOTINIT-DONE`)
		st := status(t, m)
		if st.Mode != "permissive" || stepResult(st, "load-modules") != "warned" {
			t.Errorf("status %+v", st)
		}
	})
}
