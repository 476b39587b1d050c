package securityfs

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The real /dev/kmsg: only records logged after opening come back.
func TestKmsgFollowsFromOpen(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("writing /dev/kmsg needs root")
	}
	before := fmt.Sprintf("imaboot securityfs test: before %d", time.Now().UnixNano())
	after := fmt.Sprintf("imaboot securityfs test: after %d", time.Now().UnixNano())
	if err := os.WriteFile("/dev/kmsg", []byte(before+"\n"), 0); err != nil {
		t.Skipf("cannot write /dev/kmsg: %v", err)
	}
	log, err := OpenKmsgReader("/dev/kmsg")
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	if err := os.WriteFile("/dev/kmsg", []byte(after+"\n"), 0); err != nil {
		t.Fatal(err)
	}
	msgs, err := log.Read()
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(msgs, "\n")
	if !strings.Contains(joined, after) || strings.Contains(joined, before) {
		t.Errorf("read %q: want %q and not %q", msgs, after, before)
	}
	if again, _ := log.Read(); len(again) != 0 && strings.Contains(strings.Join(again, "\n"), after) {
		t.Errorf("second read repeats records: %q", again)
	}
}

func TestKmsgMessageAndFilter(t *testing.T) {
	rec := "5,1234,5678901,-;audit: type=1807 audit(1700000000.123:4): action=appraise func=BOGUS res=0\n SUBSYSTEM=x\n"
	if m := kmsgMessage(rec); m != "audit: type=1807 audit(1700000000.123:4): action=appraise func=BOGUS res=0" {
		t.Errorf("message %q", m)
	}
	got := integrityMessages([]string{"virtio_blk: vda", "ima: policy update completed", "audit: type=1802 op=policy_update", "audit: type=1300 syscall", "audit: type=1800 op=appraise_data cause=IMA-signature-required"})
	if len(got) != 3 {
		t.Errorf("kept %q", got)
	}
}
