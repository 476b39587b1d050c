package initagent

import (
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/imaboot/imaboot/securityfs"
)

// TestConfigTemplate keeps etc/imaboot/imaboot.conf (the Debian package's
// conffile, installed by make install too) true: every key is there as a
// commented "#KEY=default" line, nothing is active (the initramfs hooks add
// imaboot only once MODE is set), and with every line uncommented it parses
// to the defaults.
func TestConfigTemplate(t *testing.T) {
	data, err := os.ReadFile("../etc/imaboot/imaboot.conf")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if err := ParseConfig(&c, "imaboot.conf", data); err != nil {
		t.Fatalf("the template does not parse: %v", err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(c, want) {
		t.Errorf("the template as shipped sets something:\n got %+v\nwant %+v", c, want)
	}
	commented := regexp.MustCompile(`(?m)^#([A-Z0-9_]+)=(.*)$`)
	seen := map[string]bool{}
	for _, m := range commented.FindAllStringSubmatch(string(data), -1) {
		if _, ok := configKeys[m[1]]; !ok {
			t.Errorf("the template names %s, which is no configuration key", m[1])
		}
		seen[m[1]] = true
	}
	for key := range configKeys {
		if !seen[key] {
			t.Errorf("the template has no #%s= line", key)
		}
	}
	// Lines with a value are uncommented; an empty one (TRUST_CA=, which
	// must name a key once set) stays as it is: its default is unset.
	withValue := regexp.MustCompile(`(?m)^#([A-Z0-9_]+)=(.+)$`)
	c = DefaultConfig()
	if err := ParseConfig(&c, "imaboot.conf", withValue.ReplaceAll(data, []byte("$1=$2"))); err != nil {
		t.Fatalf("uncommented, the template does not parse: %v", err)
	}
	want := DefaultConfig()
	// The template shows the enforce-mode defaults.
	want.MinIMACerts = 1
	want.Lockdown = securityfs.LockdownIntegrity
	if len(c.Modules) == 0 {
		c.Modules = nil // MODULES= parses to an empty list
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("uncommented, the template's values are not the defaults:\n got %+v\nwant %+v", c, want)
	}
}
