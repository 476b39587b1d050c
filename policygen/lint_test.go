package policygen

import (
	"fmt"
	"strings"
	"testing"
)

func codesOf(diags []Diagnostic) map[string][]int {
	m := map[string][]int{}
	for _, d := range diags {
		m[d.Code] = append(m[d.Code], d.Line)
	}
	return m
}

func TestShadowing(t *testing.T) {
	src := strings.Join([]string{
		"dont_appraise fsmagic=0x9fa0",                             // 1
		"appraise func=BPRM_CHECK appraise_type=imasig",            // 2: not shadowed by 1 (different condition)
		"appraise func=BPRM_CHECK fowner=0",                        // 3: shadowed by 2
		"dont_appraise fsmagic=0x9fa0 func=BPRM_CHECK",             // 4: shadowed by 1
		"measure func=BPRM_CHECK",                                  // 5
		"measure func=BPRM_CHECK pcr=11",                           // 6: same conditions as 5, decided by 5
		"audit func=BPRM_CHECK",                                    // 7: other class, not shadowed
		"measure func=BPRM_CHECK",                                  // 8: same rule as 5
		"measure func=FILE_CHECK mask=^MAY_READ uid=0",             // 9
		"measure func=FILE_CHECK mask=^MAY_READ euid=0",            // 10: euid is not uid: not shadowed
		"appraise func=MMAP_CHECK mask=MAY_EXEC fowner<1000",       // 11
		"appraise func=MMAP_CHECK mask=MAY_EXEC fowner<1000 uid=0", // 12: shadowed by 11
	}, "\n") + "\n"
	got := codesOf(CheckPolicy("s", []byte(src), Kernel612, nil))
	if want := []int{3, 4, 6, 12}; !equalInts(got[CodeShadowed], want) {
		t.Errorf("shadowed lines %v, want %v", got[CodeShadowed], want)
	}
	if want := []int{8}; !equalInts(got[CodeSameRule], want) {
		t.Errorf("duplicate lines %v, want %v", got[CodeSameRule], want)
	}
}

func TestPseudoFSWarning(t *testing.T) {
	var b strings.Builder
	for _, fs := range PseudoFilesystems {
		info, _ := FilesystemByName(fs)
		if fs == "sysfs" {
			b.WriteString("dont_appraise fsname=sysfs\n")
			continue
		}
		fmt.Fprintf(&b, "dont_appraise func=BPRM_CHECK fsmagic=%#x\n", info.Magic)
	}
	full := b.String() + "appraise func=BPRM_CHECK appraise_type=imasig\n"
	if got := codesOf(CheckPolicy("p", []byte(full), Kernel612, nil)); len(got[CodePseudoFS]) != 0 {
		t.Errorf("all pseudo file systems excluded, still warned: %v", got)
	}
	// The same exclusions do not cover another hook.
	other := b.String() + "appraise func=FILE_CHECK appraise_type=imasig\n"
	d := CheckPolicy("p", []byte(other), Kernel612, nil)
	if got := codesOf(d); len(got[CodePseudoFS]) != 1 {
		t.Errorf("FILE_CHECK appraisal with BPRM_CHECK-only exclusions: %v", d)
	}
	// An appraise rule limited to one file system needs no exclusions.
	if got := codesOf(CheckPolicy("p", []byte("appraise fsmagic=0xef53 appraise_type=imasig\n"), Kernel612, nil)); len(got[CodePseudoFS]) != 0 {
		t.Errorf("fs-limited appraisal warned: %v", got)
	}
}

func TestLSMInitramfsWarning(t *testing.T) {
	cfg := &KernelConfig{ActiveLSM: "apparmor"}
	d := CheckPolicy("l", []byte("measure subj_role=unconfined func=BPRM_CHECK\n"), Kernel612, cfg)
	if got := codesOf(d); len(got[CodeLSMInitramfs]) != 1 || HasErrors(d) {
		t.Errorf("diags = %v", d)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
