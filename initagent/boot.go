package initagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/securityfs"
)

// Step is one stage of the boot. Run returns a short detail for the report,
// or an error; Skip(reason) marks a step with nothing to do.
type Step struct {
	Name string
	// Essential steps stop the boot in every mode: without them there is
	// nothing to switch into.
	Essential bool
	Run       func(ctx context.Context) (detail string, err error)
}

type skipped struct{ reason string }

func (s skipped) Error() string { return s.reason }

// Skip is what a step returns when it is not configured.
func Skip(reason string) error { return skipped{reason} }

type warning struct{ msg string }

func (w warning) Error() string { return w.msg }

// Warn is what a step returns when it did what it could but a condition
// enforcement wants does not hold (KEYRINGS=open, lockdown none, a
// permissive boot whose kernel does not enforce, ...): in every mode the
// boot goes on, and the warning is on the console, in the kernel log and
// in the status file's warnings.
func Warn(format string, args ...any) error { return warning{fmt.Sprintf(format, args...)} }

// StepError is the failure that stopped the boot.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %s failed: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Agent holds the state of one boot.
type Agent struct {
	Log     *Logger
	Config  Config
	Cmdline *Cmdline
	Status  *Status

	// NewRoot is where the root file system is mounted before the switch.
	NewRoot string
	// Args are the arguments the kernel gave /init, passed on to the
	// root's init.
	Args []string

	start   time.Time
	kernel  string
	rootDev string
	// hook is set when a generator's init runs the agent (Hook).
	hook bool
	// secfs, imaRing and evmRing are where the integrity steps reach the
	// kernel: securityfs and the IMA/EVM keyrings (newAgent: the real ones;
	// tests put fakes here).
	secfs            securityfs.FS
	imaRing, evmRing keyload.RingSpec
	// appraisal is what the appraise-mode step read: the kernel's own
	// appraisal mode, for the policy and break-glass decisions.
	appraisal KernelAppraisal
	// probe runs a probe file (probe.go); nil is runProbe in probeDir.
	probe func(probeFile) (probeResult, error)
	// kernelKeys reads the kernel's trusted keys (TRUST=ca).
	kernelKeys func() (keyload.KernelKeys, error)
}

// RunSteps runs steps in order under the failure policy and records each in
// the status file. It returns the error of the step that stops the boot, or
// nil when the boot may go on.
func (a *Agent) RunSteps(ctx context.Context, steps []Step) error {
	for _, s := range steps {
		t0 := time.Now()
		a.Log.Debugf("%s: start", s.Name)
		detail, err := s.Run(ctx)
		st := StepStatus{Name: s.Name, StartMS: a.Status.since(t0), DurationMS: float64(time.Since(t0).Microseconds()) / 1000}
		var skip skipped
		var warn warning
		switch {
		case err == nil:
			st.Result, st.Detail = ResultOK, detail
			if detail != "" {
				a.Log.Infof("%s: %s", s.Name, detail)
			}
		case errors.As(err, &skip):
			st.Result, st.Detail = ResultSkipped, skip.reason
			a.Log.Infof("%s: skipped: %s", s.Name, skip.reason)
		case errors.As(err, &warn):
			st.Result, st.Detail = ResultWarned, warn.msg
			a.Log.Warnf("%s: %s", s.Name, warn.msg)
			a.Status.Warnings = append(a.Status.Warnings, s.Name+": "+warn.msg)
		case s.Essential || a.Config.Mode == Enforce:
			st.Result, st.Detail = ResultFailed, err.Error()
			a.Status.Steps = append(a.Status.Steps, st)
			return &StepError{Step: s.Name, Err: err}
		default:
			st.Result, st.Detail = ResultWarned, err.Error()
			a.Log.Warnf("permissive: step %s failed, continuing: %v", s.Name, err)
			a.Status.Warnings = append(a.Status.Warnings, s.Name+": failed: "+err.Error())
		}
		// The status file is written once, at the outcome (switching,
		// halted, done): it lives in RAM and nobody reads it before then,
		// and a write per step cost 2-6 ms each under emulation.
		a.Status.Steps = append(a.Status.Steps, st)
	}
	return nil
}

// steps is the boot sequence. A new step is one function and one line here.
// In hook mode the generator (dracut, initramfs-tools) has mounted the root:
// the agent only checks it.
//
// What a step hands to later steps is a variable here, filled by the step
// that makes it and passed to the steps that take it, so these lines show
// the order the steps depend on.
func (a *Agent) steps() []Step {
	// config starts reading the certificates and the policy (inputs.go);
	// the certificate and policy steps wait for them.
	in := &inputs{}
	var (
		imaRing, evmRing keyload.KernelKeyring // *-certificates → seal-keyrings (with TRUST=ca: the CA keyrings)
		evmCerts         int                   // evm-certificates → enable-evm (EVM's X509 bit), pin-evm-keyring
		masterKey        int                   // master-key → evm-key, which drops it (a key serial, 0: none)
		evmKey           int                   // evm-key → enable-evm, which drops it (a key serial, 0: none)
		policy           policyLoad            // ima-policy → prove-enforcement, pin-evm-keyring
		ca               *caRings              // trust-ca → ima-certificates, evm-certificates, seal-keyrings (TRUST=ca)
	)
	root := Step{Name: "mount-root", Essential: true, Run: a.mountRoot}
	if a.hook {
		root = Step{Name: "check-root", Essential: true, Run: a.checkRoot}
	}
	return []Step{
		{Name: "mount-pseudo", Essential: true, Run: a.mountPseudo},
		{Name: "config", Essential: true, Run: func(context.Context) (string, error) {
			return a.loadConfig(in)
		}},
		// Before anything else: enforce stops at once when the kernel
		// would not enforce.
		{Name: "appraise-mode", Run: a.checkAppraiseMode},
		{Name: "load-modules", Run: a.loadModules},
		root,
		// Integrity steps, between "root mounted" and "switch".
		{Name: "trust-ca", Run: func(context.Context) (detail string, err error) {
			detail, ca, err = a.trustCA(a.waitInputs(in))
			return detail, err
		}},
		{Name: "ima-certificates", Run: func(context.Context) (detail string, err error) {
			detail, imaRing, err = a.loadIMACertificates(a.waitInputs(in), ca)
			return detail, err
		}},
		{Name: "evm-certificates", Run: func(context.Context) (detail string, err error) {
			detail, evmCerts, evmRing, err = a.loadEVMCertificates(a.waitInputs(in), ca)
			return detail, err
		}},
		{Name: "seal-keyrings", Run: func(context.Context) (string, error) {
			// With TRUST=ca, _ima and _evm were sealed by trust-ca (only
			// reported here) and the CA keyrings inside them are closed.
			return a.sealKeyrings(append(ca.sealedParents(), imaRing, evmRing)...)
		}},
		{Name: "master-key", Run: func(context.Context) (detail string, err error) {
			detail, masterKey, err = a.loadMasterKey()
			return detail, err
		}},
		{Name: "evm-key", Run: func(context.Context) (detail string, err error) {
			detail, evmKey, err = a.loadEVMKey(masterKey)
			return detail, err
		}},
		// The policy goes in before EVM is switched on, so that the
		// canary reaches IMA's signature check (enforcement.go).
		{Name: "ima-policy", Run: func(context.Context) (string, error) {
			return a.loadPolicy(a.waitInputs(in), &policy)
		}},
		{Name: "prove-enforcement", Run: func(context.Context) (string, error) {
			return a.proveEnforcement(a.waitInputs(in), policy)
		}},
		{Name: "enable-evm", Run: func(context.Context) (string, error) {
			return a.enableEVM(evmKey, evmCerts, a.waitInputs(in).lsm)
		}},
		{Name: "pin-evm-keyring", Run: func(context.Context) (string, error) {
			return a.pinEVMKeyring(a.waitInputs(in), policy, evmCerts > 0)
		}},
		// Last: nothing the agent does needs what lockdown closes.
		{Name: "lockdown", Run: a.raiseLockdown},
	}
}

// Hook runs the sequence inside an initramfs generator's own init (dracut,
// initramfs-tools) against the root it mounted at newRoot: it mounts and
// switches nothing the generator owns, reports on the console (the
// generator's log) and in the status file, and returns the exit status the
// hook acts on: 0 boot on (all done, or permissive), 1 stop the boot
// (enforce: a step failed; the one-line reason was printed).
func Hook(ctx context.Context, newRoot string) int {
	a := newAgent(newRoot, nil)
	a.hook = true
	if err := a.RunSteps(ctx, a.steps()); err != nil {
		a.Status.Outcome = "halted"
		a.writeStatus()
		a.Log.Errorf("%s: %s; the boot must stop before the switch", a.Config.Mode, strings.ReplaceAll(err.Error(), "\n", "; "))
		return 1
	}
	a.Status.ReadyMS = a.Status.since(time.Now())
	a.Status.Outcome = "done"
	a.writeStatus()
	a.Log.Infof("ready: %s may switch to %s after %.0f ms; %s", newRoot, a.Config.Init, a.Status.ReadyMS, a.Status.Holds())
	return 0
}

func newAgent(newRoot string, args []string) *Agent {
	a := &Agent{
		Log:     &Logger{Console: os.Stdout},
		Config:  DefaultConfig(),
		NewRoot: newRoot,
		Args:    args,
		start:   time.Now(),
		imaRing: keyload.IMARing,
		evmRing: keyload.EVMRing,
		kernelKeys: func() (keyload.KernelKeys, error) {
			return keyload.ReadKernelKeys("")
		},
	}
	a.Status = NewStatus(StatusPath, a.Config.Mode, a.start)
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		a.kernel = unix.ByteSliceToString(uts.Release[:])
		a.Status.Kernel = a.kernel
	}
	a.Log.Infof("starting (kernel %s)", a.kernel)
	return a
}

// Boot runs the whole sequence as PID 1 and does not return on success: it
// execs the root's init. On failure it halts (enforce) and never returns.
func Boot(ctx context.Context, args []string) {
	a := newAgent("/newroot", args)
	if err := a.RunSteps(ctx, a.steps()); err != nil {
		a.stop(err)
	}
	a.Status.ReadyMS = a.Status.since(time.Now())
	a.Status.Outcome = "switching"
	a.writeStatus()
	a.Log.Infof("ready: switching to %s on %s after %.0f ms; %s", a.Config.Init, a.rootDev, a.Status.ReadyMS, a.Status.Holds())
	err := SwitchRoot(a.NewRoot, a.Config.Init, a.Args, initEnv(os.Environ()))
	// SwitchRoot returns only on failure; a failed switch stops in every mode.
	if errors.Is(err, unix.EACCES) {
		err = fmt.Errorf("%w: the kernel refused the root's init (IMA: not signed by a loaded key, or changed since it was signed); to repair, boot once with %s", err, breakGlassParam)
	}
	a.stop(&StepError{Step: "switch-root", Err: err})
}

func (a *Agent) writeStatus() {
	if err := a.Status.Write(); err != nil {
		a.Log.Warnf("status file %s: %v", StatusPath, err)
	}
}

// stop reports the failure on one line and halts; it never returns and never
// reboots (a reboot loop would hide the reason).
func (a *Agent) stop(err error) {
	a.Status.Outcome = "halted"
	a.writeStatus()
	// One line, whatever the error holds (joined errors carry newlines).
	a.Log.Errorf("%s: %s; boot stopped before the switch", a.Config.Mode, strings.ReplaceAll(err.Error(), "\n", "; "))
	unix.Sync()
	cmd := unix.LINUX_REBOOT_CMD_HALT
	if a.Config.Halt == HaltPowerOff {
		cmd = unix.LINUX_REBOOT_CMD_POWER_OFF
	}
	_ = unix.Reboot(cmd)
	for {
		// Halt did not take (not permitted): stay at the message.
		time.Sleep(time.Hour)
	}
}

// initEnv is the environment the root's init starts with: what the kernel
// gave us, plus a PATH (the kernel sets none).
func initEnv(env []string) []string {
	for _, e := range env {
		if len(e) > 5 && e[:5] == "PATH=" {
			return env
		}
	}
	return append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
}
