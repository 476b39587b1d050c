package initagent

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// The hand encoder must give exactly what encoding/json gives.
func TestStatusMarshalMatchesEncodingJSON(t *testing.T) {
	tricky := []string{"", "plain", `quote " and \ backslash`, "line\nbreak\r\ttab", "\x00\x01\x1f\x7f",
		"<html> & friends", "caf\u00e9 \u65e5\u672c", "\u2028\u2029", "bad \xff\xfe utf-8", "trail \xe2\x82"}
	floats := []float64{0, 1, -1, 0.001, 1.5, 123.456, 1e-6, 9.99e-7, 1e-7, 1.234e-9, 1e20, 1e21, 1.5e300,
		math.SmallestNonzeroFloat64, math.MaxFloat64, -2.5e-8, 12345678.9}
	cases := []*Status{
		{Version: 1, Mode: "enforce", Outcome: "running"},
		{Version: 1, Mode: "permissive", Steps: []StepStatus{}, Outcome: "done"},
		{Version: 1, Mode: "enforce", Kernel: "6.1.0-13-amd64", Outcome: "switching", RootMountedMS: 12.5, ReadyMS: 30.25, InputsMS: 4.125,
			Steps: []StepStatus{{Name: "modules", Result: ResultOK, StartMS: 0.5, DurationMS: 3}, {Name: "evm", Result: ResultFailed, Detail: "no key", DurationMS: 1e-7}}},
		{Version: 1, Mode: "enforce", Outcome: "halted", ReadyMS: 7},
		{Version: 1, Mode: "enforce", Outcome: "halted", InputsMS: 7},
		{Version: 1, Mode: "enforce", Outcome: "halted", RootMountedMS: 7, InputsMS: 8},
		{Version: 1, Mode: "permissive", BreakGlass: true, AppraiseMode: "fix", SecureBoot: "not-efi", Keyrings: "sealed",
			Enforcement: EnforcementOff, EnforcementDetail: "break-glass", Lockdown: "none", Warnings: []string{"a", "b <c>"}, Outcome: "switching"},
		{Version: 1, Mode: "enforce", Warnings: []string{}, Outcome: "done"},
		{Version: 1, Mode: "enforce", Outcome: "halted", Trust: &TrustStatus{Mode: TrustOwnerCA, CA: TrustCAStatus{KeyID: "00ff"}}},
		{Version: 1, Mode: "enforce", Outcome: "switching", ReadyMS: 3, Trust: &TrustStatus{Mode: TrustOwnerCA,
			CA: TrustCAStatus{KeyID: "2440", Found: true, Subject: "owner CA", Keyrings: []string{".machine", ".secondary_trusted_keys"}}, MachineKeyringTrusted: true,
			Keyrings: []TrustKeyringStatus{{Name: "_ima_ca", Parent: "_ima", Closed: true, Certificates: []TrustedCertStatus{{File: "/etc/keys/ima/r.der", Subject: "CN=r", KeyID: "8ec5f078"}}},
				{Name: "_evm_ca", Parent: "_evm", Certificates: []TrustedCertStatus{}}}}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	pickf := func() float64 {
		if rng.IntN(3) == 0 {
			return floats[rng.IntN(len(floats))]
		}
		return float64(rng.Int64N(1e9)) / 1000
	}
	for range 300 {
		s := &Status{Version: rng.IntN(3), Mode: Mode(pick(tricky)), Kernel: pick(tricky), Outcome: pick(tricky)}
		if rng.IntN(2) == 0 {
			s.RootMountedMS = pickf()
		}
		if rng.IntN(2) == 0 {
			s.ReadyMS = pickf()
		}
		if rng.IntN(2) == 0 {
			s.InputsMS = pickf()
		}
		if rng.IntN(2) == 0 {
			s.BreakGlass = true
		}
		for _, p := range []*string{&s.AppraiseMode, &s.SecureBoot, &s.Keyrings, &s.Enforcement, &s.EnforcementDetail, &s.Lockdown} {
			if rng.IntN(2) == 0 {
				*p = pick(tricky)
			}
		}
		for range rng.IntN(3) {
			s.Warnings = append(s.Warnings, pick(tricky))
		}
		if rng.IntN(2) == 0 {
			s.Trust = randomTrust(rng, pick)
		}
		if n := rng.IntN(5); n > 0 {
			for range n {
				s.Steps = append(s.Steps, StepStatus{Name: pick(tricky), Result: pick(tricky), Detail: pick(tricky), StartMS: pickf(), DurationMS: pickf()})
			}
		}
		cases = append(cases, s)
	}
	for i, s := range cases {
		want, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.marshalIndent(); string(got) != string(want) {
			t.Fatalf("case %d: hand encoder differs from encoding/json\n got: %s\nwant: %s", i, got, want)
		}
	}
}

func randomTrust(rng *rand.Rand, pick func([]string) string) *TrustStatus {
	tricky := []string{"", "_ima_ca", "quote \" <&>", "caf\u00e9"}
	strs := func() []string {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		return []string{pick(tricky), pick(tricky)}
	}
	t := &TrustStatus{Mode: TrustMode(pick(tricky)), MachineKeyringTrusted: rng.IntN(2) == 0,
		CA: TrustCAStatus{KeyID: pick(tricky), Found: rng.IntN(2) == 0, Subject: pick(tricky), Keyrings: strs()}}
	if rng.IntN(3) > 0 {
		t.Keyrings = []TrustKeyringStatus{}
		for range rng.IntN(3) {
			k := TrustKeyringStatus{Name: pick(tricky), Parent: pick(tricky), Closed: rng.IntN(2) == 0}
			if rng.IntN(3) > 0 {
				k.Certificates = []TrustedCertStatus{}
				for range rng.IntN(3) {
					k.Certificates = append(k.Certificates, TrustedCertStatus{File: pick(tricky), Subject: pick(tricky), KeyID: pick(tricky)})
				}
			}
			t.Keyrings = append(t.Keyrings, k)
		}
	}
	return t
}

// A value json cannot encode is written as null, so a report is never lost.
func TestStatusMarshalNaN(t *testing.T) {
	s := &Status{Version: 1, Mode: "enforce", Outcome: "done", ReadyMS: math.NaN()}
	got := string(s.marshalIndent())
	if !strings.Contains(got, `"ready_ms": null`) {
		t.Fatalf("NaN not written as null:\n%s", got)
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
}
