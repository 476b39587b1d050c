package initagent

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEDocumentsEveryKey keeps the README's configuration table true:
// every key the parser accepts, every allowed kernel parameter and every
// dracut variable understood is documented there.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for key := range configKeys {
		if !strings.Contains(readme, "| `"+key+"` |") {
			t.Errorf("README has no row for configuration key %s", key)
		}
	}
	for param := range cmdlineKeys {
		if !strings.Contains(readme, "`"+param+"=`") {
			t.Errorf("README does not mention kernel parameter %s=", param)
		}
	}
	for v := range dracutKeys {
		if !strings.Contains(readme, "`"+v+"`") {
			t.Errorf("README does not mention dracut variable %s", v)
		}
	}
}
