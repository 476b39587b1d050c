package policygen

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOracleCorpusSize(t *testing.T) {
	c := OracleCorpus()
	if len(c) < 300 {
		t.Fatalf("corpus has %d rules, want at least 300", len(c))
	}
	cfg := loadConfig(t, "config-6.12-debian-cloud")
	accepted := 0
	for _, r := range c {
		if Predict(r, Kernel612, cfg).Accept {
			accepted++
		}
	}
	// A corpus of only valid or only invalid rules would test half the checker.
	if accepted < len(c)/5 || accepted > len(c)*4/5 {
		t.Errorf("%d of %d rules predicted accepted: corpus is lopsided", accepted, len(c))
	}
	t.Logf("%d rules, %d predicted accepted on 6.12", len(c), accepted)
}

// fakeKernel answers policy writes as the emulated kernel would, and keeps
// what close() would load.
type fakeKernel struct {
	v         KernelVersion
	cfg       *KernelConfig
	loaded    []string
	opens     int
	inSession bool
}

type fakeSession struct {
	k     *fakeKernel
	temp  []string
	valid bool
}

func (k *fakeKernel) open() (policySession, error) {
	if k.inSession {
		return nil, unix.EBUSY
	}
	k.inSession = true
	k.opens++
	return &fakeSession{k: k, valid: true}, nil
}

func (s *fakeSession) Write(b []byte) (int, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	if !Predict(line, s.k.v, s.k.cfg).Accept {
		s.valid = false
		return 0, unix.EINVAL
	}
	s.temp = append(s.temp, line)
	return len(line) + 1, nil
}

func (s *fakeSession) Close() error {
	if s.valid && len(s.temp) > 0 {
		s.k.loaded = append(s.k.loaded, s.temp...)
	}
	s.k.inSession = false
	return nil
}

func TestJudgeLoadsNothing(t *testing.T) {
	k := &fakeKernel{v: Kernel61, cfg: loadConfig(t, "config-6.1-debian-cloud")}
	rules := []string{"measure func=BPRM_CHECK", "measure func=NOPE", "appraise func=BPRM_CHECK appraise_type=imasig", "audit"}
	verdicts, err := judge("fake", k.open, func() bool { return len(k.loaded) == 0 }, rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.loaded) != 0 {
		t.Fatalf("judging loaded a policy: %q", k.loaded)
	}
	want := []bool{true, false, true, true}
	for i, v := range verdicts {
		if v.Accepted != want[i] {
			t.Errorf("%q: accepted=%v, want %v", v.Rule, v.Accepted, want[i])
		}
	}
	if verdicts[1].Errno != unix.EINVAL {
		t.Errorf("refused rule errno = %v, want EINVAL", verdicts[1].Errno)
	}
	if k.opens != len(rules) {
		t.Errorf("%d opens for %d rules", k.opens, len(rules))
	}
}

// A kernel that loaded a policy removes the file: the judge must stop.
func TestJudgeStopsWhenPolicyLoads(t *testing.T) {
	k := &fakeKernel{v: Kernel61}
	open := func() (policySession, error) {
		s, err := k.open()
		if err != nil {
			return nil, err
		}
		return &leakySession{s.(*fakeSession)}, nil
	}
	_, err := judge("fake", open, func() bool { return len(k.loaded) == 0 }, []string{"measure", "audit"})
	if err == nil || !strings.Contains(err.Error(), "vanished") {
		t.Fatalf("err = %v, want a vanished-file error", err)
	}
}

// leakySession ignores the poison rule, as a broken kernel would.
type leakySession struct{ *fakeSession }

func (s *leakySession) Write(b []byte) (int, error) {
	if string(b) == judgePoison {
		return 0, unix.EINVAL
	}
	return s.fakeSession.Write(b)
}

func (s *leakySession) Close() error {
	s.valid = true
	return s.fakeSession.Close()
}

func TestJudgeRulesRefusesPlainFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := JudgeRules(path, []string{"measure"})
	if err == nil || !strings.Contains(err.Error(), "not a kernel IMA policy file") {
		t.Fatalf("err = %v", err)
	}
	_, err = JudgeRules(filepath.Join(t.TempDir(), "missing"), []string{"measure"})
	if !errors.Is(err, unix.ENOENT) {
		t.Fatalf("missing file: err = %v, want ENOENT kept", err)
	}
}
