package policygen

import (
	"fmt"
	"strings"
	"testing"
)

func ExamplePrepare() {
	src := []byte("# exec must be signed\ndont_appraise fsmagic=0x9fa0\nappraise func=BPRM_CHECK  appraise_type=imasig\n")
	p, err := Prepare("/etc/imaboot/ima-policy", src, "6.1.0-56-cloud-amd64", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("errors:", p.Err())
	for _, w := range p.Writes {
		fmt.Printf("write %q\n", w)
	}
	// Output:
	// errors: <nil>
	// write "dont_appraise fsmagic=0x9fa0\n"
	// write "appraise func=BPRM_CHECK appraise_type=imasig\n"
}

func TestPrepare(t *testing.T) {
	src := []byte("dont_appraise fsmagic=0x9fa0\nappraise func=BPRM_CHECK  appraise_type=imasig\nappraise func=POLICY_CHECK appraise_type=imasig\n")
	p, err := Prepare("pol", src, "6.12.48+deb13-cloud-amd64", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kernel != (KernelVersion{6, 12, 48}) || p.Err() != nil {
		t.Fatalf("kernel %v, err %v", p.Kernel, p.Err())
	}
	want := []string{"dont_appraise fsmagic=0x9fa0\n", "appraise func=BPRM_CHECK appraise_type=imasig\n", "appraise func=POLICY_CHECK appraise_type=imasig\n"}
	if strings.Join(p.Writes, "") != strings.Join(want, "") {
		t.Errorf("writes = %q", p.Writes)
	}
	if !p.AppraisesPolicy() {
		t.Error("AppraisesPolicy = false")
	}
	// An inline comment: refused by 6.1 as written, so Err names it even
	// though the agent writes the canonical text without it.
	p, _ = Prepare("pol", []byte("measure func=BPRM_CHECK # x\nmeasure func=NOPE\n"), "6.1.0-56-cloud-amd64", nil)
	err = p.Err()
	if err == nil || !strings.Contains(err.Error(), "2 error(s)") || !strings.Contains(err.Error(), "pol:1:25: error: inline comment") {
		t.Errorf("err = %v", err)
	}
	if _, err := Prepare("pol", src, "garbage", nil); err == nil {
		t.Error("bad release accepted")
	}
}
