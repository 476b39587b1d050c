package initagent

import (
	"errors"
	"strings"
	"testing"

	"github.com/imaboot/imaboot/efi"
)

// FuzzParseConfig reads arbitrary bytes as imaboot.conf and as one of
// dracut's sysconfig files. Nothing may panic; an error names a line of
// the file.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"MODE=enforce\nMODULES=a,b c\n# x\n", "IMA_POLICY=\n", "export IMAPOLICY='/etc/x'\n",
		"MODE=\"permissive\n", "ROOT_TIMEOUT=1e400\n", "TPM_WAIT=-1\nEVM_BITS=0x80000006\n", "=x\n", "K V=1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := strings.Count(string(data), "\n") + 1
		for _, parse := range []func(*Config, string, []byte) error{ParseConfig, ParseDracutConfig} {
			c := DefaultConfig()
			err := parse(&c, "fuzz.conf", data)
			var ce *ConfigError
			if errors.As(err, &ce) && (ce.Line < 1 || ce.Line > lines || ce.File != "fuzz.conf") {
				t.Fatalf("error outside the file: %v", err)
			}
			if err == nil && c.Mode != Enforce && c.Mode != Permissive {
				t.Fatalf("MODE became %q", c.Mode)
			}
		}
	})
}

// FuzzParseCmdline reads arbitrary strings as /proc/cmdline, then applies
// it to the default configuration and reads the kernel's appraisal mode
// from it. Nothing may panic; the mode is one the kernel has.
func FuzzParseCmdline(f *testing.F) {
	for _, s := range []string{"root=/dev/vda ro quiet", `init="/sbin/x y" -- a b`, "imaboot.mode=permissive imaboot.bogus=1",
		"rootdelay=abc", "root=UUID=x rootflags=a,b \"unterminated", "-- --", "imaboot.root_timeout=-3",
		"ima_appraise=fix evm=fixx ima-appraise", "ima_appraise=logx -- ima_appraise=off"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cl, err := ParseCmdline(s)
		if err != nil {
			return
		}
		for _, p := range cl.Params {
			if strings.ContainsAny(p.Key, " \t\n") && !strings.Contains(s, "\"") {
				t.Fatalf("key %q holds a blank", p.Key)
			}
		}
		cl.Root()
		c := DefaultConfig()
		c.ApplyCmdline(cl)
		k := ReadKernelAppraisal(cl, efi.SecureBoot{})
		switch k.Mode {
		case AppraiseEnforce, AppraiseLog, AppraiseFix, AppraiseOff:
		default:
			t.Fatalf("appraisal mode %q", k.Mode)
		}
		if k.Enforces() != (k.Problem() == "") {
			t.Fatalf("enforces %v but problem %q", k.Enforces(), k.Problem())
		}
	})
}
