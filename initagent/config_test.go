package initagent

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	c := DefaultConfig()
	src := `# comment
MODE=permissive

MODULES="virtio_blk, sha512_generic"
export ROOT_TIMEOUT=2.5
INIT='/lib/systemd/systemd'
HALT=poweroff
DEBUG=yes
`
	if err := ParseConfig(&c, "imaboot.conf", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if c.Mode != Permissive || c.Halt != HaltPowerOff || !c.Debug || c.Init != "/lib/systemd/systemd" {
		t.Errorf("parsed %+v", c)
	}
	if strings.Join(c.Modules, "|") != "virtio_blk|sha512_generic" {
		t.Errorf("modules %q", c.Modules)
	}
	if c.RootTimeout != 2500*time.Millisecond {
		t.Errorf("root timeout %v", c.RootTimeout)
	}
}

func TestParseConfigErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"MODE=enforce\nthis is not a setting\n", "conf:2: not a KEY=value line"},
		{"\n\nMODE=strict\n", "conf:3: MODE must be enforce or permissive"},
		{"NOPE=1\n", "conf:1: unknown key NOPE"},
		{"INIT=sbin/init\n", "conf:1: INIT must be an absolute path"},
		{"MODE=\"enforce\n", "conf:1: unterminated quote"},
		{"ROOT_TIMEOUT=soon\n", "conf:1: ROOT_TIMEOUT"},
	} {
		c := DefaultConfig()
		err := ParseConfig(&c, "conf", []byte(tc.src))
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want prefix %q", tc.src, err, tc.want)
		}
	}
}

func TestApplyCmdline(t *testing.T) {
	cl, err := ParseCmdline(`console=ttyS0 imaboot.mode=permissive imaboot.bogus=1 root=/dev/vda`)
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	ignored, err := c.ApplyCmdline(cl)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != Permissive {
		t.Errorf("mode %s, want permissive", c.Mode)
	}
	if len(ignored) != 1 || ignored[0].Param != "imaboot.bogus" || ignored[0].Why != "not an allowed override" {
		t.Errorf("ignored %q", ignored)
	}

	// A configuration that forbids overrides keeps its mode.
	c = DefaultConfig()
	if err := ParseConfig(&c, "conf", []byte("CMDLINE_OVERRIDE=no\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ApplyCmdline(cl); err != nil {
		t.Fatal(err)
	}
	if c.Mode != Enforce {
		t.Errorf("mode %s with CMDLINE_OVERRIDE=no, want enforce", c.Mode)
	}

	cl, _ = ParseCmdline("imaboot.mode=lax")
	c = DefaultConfig()
	if _, err := c.ApplyCmdline(cl); err == nil || !strings.Contains(err.Error(), "imaboot.mode=lax") {
		t.Errorf("bad override: %v", err)
	}
}

// TestApplyCmdlineRootOverrides: init= and rootdelay= are applied by the
// same function, after imaboot.root_timeout, and even with
// CMDLINE_OVERRIDE=no (they are the kernel's own parameters).
func TestApplyCmdlineRootOverrides(t *testing.T) {
	cl, _ := ParseCmdline("imaboot.root_timeout=5 rootdelay=7.5 init=/bin/sh")
	for _, override := range []bool{true, false} {
		c := DefaultConfig()
		c.CmdlineOverride = override
		if _, err := c.ApplyCmdline(cl); err != nil {
			t.Fatal(err)
		}
		if c.Init != "/bin/sh" || c.RootTimeout != 7500*time.Millisecond {
			t.Errorf("override %v: init %q, root timeout %v", override, c.Init, c.RootTimeout)
		}
	}
	cl, _ = ParseCmdline("rootdelay=soon")
	c := DefaultConfig()
	if _, err := c.ApplyCmdline(cl); err == nil || !strings.Contains(err.Error(), "rootdelay=") {
		t.Errorf("bad rootdelay=: %v", err)
	}
}
