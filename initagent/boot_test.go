package initagent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imaboot/imaboot/keyload"
)

func testAgent(t *testing.T, mode Mode) (*Agent, *strings.Builder, string) {
	var out strings.Builder
	path := filepath.Join(t.TempDir(), "run/imaboot/status.json")
	a := &Agent{Log: &Logger{Console: &out}, Config: DefaultConfig(), imaRing: keyload.IMARing, evmRing: keyload.EVMRing}
	a.Config.Mode = mode
	a.Status = NewStatus(path, mode, time.Now())
	return a, &out, path
}

func step(name string, essential bool, err error, ran *[]string) Step {
	return Step{Name: name, Essential: essential, Run: func(context.Context) (string, error) {
		*ran = append(*ran, name)
		return "did " + name, err
	}}
}

func TestRunStepsEnforceStopsAtFirstFailure(t *testing.T) {
	a, _, path := testAgent(t, Enforce)
	var ran []string
	boom := errors.New("boom")
	err := a.RunSteps(context.Background(), []Step{
		step("one", false, nil, &ran),
		step("two", false, boom, &ran),
		step("three", false, nil, &ran),
	})
	var se *StepError
	if !errors.As(err, &se) || se.Step != "two" || !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if strings.Join(ran, ",") != "one,two" {
		t.Errorf("ran %q", ran)
	}
	if err.Error() != "step two failed: boom" {
		t.Errorf("message %q", err)
	}
	a.Status.Outcome = "halted"
	if err := a.Status.Write(); err != nil {
		t.Fatal(err)
	}
	var st Status
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Steps) != 2 || st.Steps[1].Result != ResultFailed || st.Steps[1].Detail != "boom" || st.Outcome != "halted" {
		t.Errorf("status %s", data)
	}
}

func TestRunStepsPermissiveWarnsButEssentialStops(t *testing.T) {
	a, out, _ := testAgent(t, Permissive)
	var ran []string
	err := a.RunSteps(context.Background(), []Step{
		step("certs", false, errors.New("no certificate"), &ran),
		{Name: "tpm", Run: func(context.Context) (string, error) { ran = append(ran, "tpm"); return "", Skip("no TPM configured") }},
		step("mount-root", true, errors.New("no root"), &ran),
		step("after", false, nil, &ran),
	})
	if err == nil || !strings.Contains(err.Error(), "mount-root") {
		t.Fatalf("essential failure not fatal: %v", err)
	}
	if strings.Join(ran, ",") != "certs,tpm,mount-root" {
		t.Errorf("ran %q", ran)
	}
	if !strings.Contains(out.String(), "imaboot: warning: permissive: step certs failed, continuing: no certificate") {
		t.Errorf("console:\n%s", out)
	}
	got := []string{a.Status.Steps[0].Result, a.Status.Steps[1].Result, a.Status.Steps[2].Result}
	if strings.Join(got, ",") != "warned,skipped,failed" {
		t.Errorf("results %q", got)
	}
}

func TestLoggerPrefixesAndLevels(t *testing.T) {
	var con, kmsg strings.Builder
	l := &Logger{Console: &con, Kmsg: &kmsg}
	l.Infof("root mounted")
	l.Errorf("enforce: %s", strings.Repeat("x", 2000))
	l.Debugf("hidden")
	if !strings.HasPrefix(con.String(), "imaboot: root mounted\nimaboot: error: enforce: ") {
		t.Errorf("console %q", con.String()[:60])
	}
	lines := strings.Split(strings.TrimSpace(kmsg.String()), "\n")
	if len(lines) != 2 || lines[0] != "<6>imaboot: root mounted" || !strings.HasPrefix(lines[1], "<3>imaboot: enforce: ") || len(lines[1]) > 1000 {
		t.Errorf("kmsg %q", kmsg.String()[:80])
	}
}

func TestInitEnvAddsPath(t *testing.T) {
	env := initEnv([]string{"HOME=/", "TERM=linux"})
	if env[len(env)-1] != "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" {
		t.Errorf("env %q", env)
	}
	env = initEnv([]string{"PATH=/bin"})
	if len(env) != 1 {
		t.Errorf("env %q", env)
	}
}

func TestHMACCrashGuard(t *testing.T) {
	withBPF := "lockdown,capability,landlock,yama,apparmor,bpf,ima,evm"
	without := "lockdown,capability,landlock,yama,apparmor,ima,evm"
	if err := hmacCrashGuard("6.1.0-56-cloud-amd64", withBPF); err == nil || !strings.Contains(err.Error(), "without bpf") {
		t.Errorf("6.1 with bpf: %v", err)
	}
	for _, tc := range []struct{ release, lsm string }{
		{"6.1.0-56-cloud-amd64", without},
		{"6.12.117+deb13-cloud-amd64", withBPF},
		{"6.1.0-56-cloud-amd64", ""}, // list unknown
	} {
		if err := hmacCrashGuard(tc.release, tc.lsm); err != nil {
			t.Errorf("%s %q: %v", tc.release, tc.lsm, err)
		}
	}
}
