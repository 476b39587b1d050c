package dpkglabel

import (
	"os"
	"strings"
	"testing"
)

const statusText = `Package: libfoo1
Status: install ok unpacked
Architecture: amd64
Multi-Arch: same
Description: foo
 Status: install ok installed
 .

Package: bar
Status: install ok installed
Architecture: all
Conffiles:
 /etc/bar.conf 0123

Package: gone
Status: deinstall ok config-files
Architecture: all

Package: half
Status: install reinstreq half-installed
Architecture: amd64
`

func TestParseStatus(t *testing.T) {
	pkgs, err := ParseStatus(strings.NewReader(statusText), "status")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+"/"+p.State+"/"+p.MultiArch)
	}
	want := "libfoo1/unpacked/same bar/installed/ gone/config-files/ half/half-installed/"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
	var pending []string
	for _, p := range pkgs {
		if p.Pending() {
			pending = append(pending, p.Name)
		}
	}
	if strings.Join(pending, " ") != "libfoo1 half" {
		t.Errorf("pending: %v", pending)
	}
	if pkgs[2].HasFiles() || !pkgs[1].HasFiles() {
		t.Error("HasFiles: config-files has none, installed has")
	}
	if infoName(nil, pkgs[0]) != "libfoo1:amd64" || infoName(nil, pkgs[1]) != "bar" {
		t.Error("info names: want NAME:ARCH for Multi-Arch: same only")
	}
}

func TestParseStatusRefuses(t *testing.T) {
	for name, text := range map[string]string{
		"no status":  "Package: a\nArchitecture: all\n",
		"bad status": "Package: a\nStatus: installed\n",
		"no colon":   "Package: a\ngarbage\n",
	} {
		if _, err := ParseStatus(strings.NewReader(text), "status"); err == nil || !strings.Contains(err.Error(), "status: ") {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
	}
}

// The host's own database, the real format.
func TestParseHostStatus(t *testing.T) {
	f, err := os.Open("/var/lib/dpkg/status")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	pkgs, err := ParseStatus(f, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	installed := 0
	for _, p := range pkgs {
		if p.State == "installed" {
			installed++
			if _, err := os.Stat("/var/lib/dpkg/info/" + infoName(nil, p) + ".list"); err != nil {
				t.Errorf("%s: %v", p.Name, err)
			}
		}
	}
	if installed == 0 {
		t.Error("no installed package in the host's status file")
	}
}

func TestParseDiversions(t *testing.T) {
	d, err := ParseDiversions(strings.NewReader("/usr/bin/dpkg-deb\n/usr/bin/dpkg-deb.distrib\n:\n/bin/sh\n/bin/sh.distrib\ndash\n"), "diversions")
	if err != nil {
		t.Fatal(err)
	}
	if actual(d, "dpkg", "/usr/bin/dpkg-deb") != "/usr/bin/dpkg-deb.distrib" || actual(d, "dash", "/bin/sh") != "/bin/sh" {
		t.Errorf("diversions: %v", d)
	}
	if _, err := ParseDiversions(strings.NewReader("/a\n/b\n"), "diversions"); err == nil {
		t.Error("two lines accepted")
	}
}

func TestControlTarget(t *testing.T) {
	for args, want := range map[string]string{
		"--control x.deb /var/lib/dpkg/tmp.ci": "/var/lib/dpkg/tmp.ci",
		"-e x.deb d":                           "d",
		"-e x.deb":                             "DEBIAN",
		"--control -- x.deb d":                 "d",
		"--fsys-tarfile x.deb":                 "",
		"-x x.deb d":                           "",
		"--info x.deb":                         "",
	} {
		got, ok := ControlTarget(strings.Fields(args))
		if got != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", args, got, ok, want)
		}
	}
}
