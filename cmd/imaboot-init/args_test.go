package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

// parseArgs accepts, refuses and reads what package flag would.
func TestParseArgsMatchesFlag(t *testing.T) {
	cases := []string{
		"", "--hook", "-hook", "--hook --root /sysroot", "--hook --root=/x", "-root /x -hook", "--root", "--root -hook",
		"--hook=false", "--hook=true", "--hook=1", "--hook=0", "--hook=T", "--hook=yes", "--hook= ", "--hook false",
		"-h", "-help", "--help", "--help=1", "--nope", "-x --hook", "---hook", "-=x", "- --hook", "-- --hook",
		"--hook -- --nope", "stray --hook", "--hook stray --nope", "--root=a --root=b", "--root= --hook", "--hook=false --hook",
		"--root --help", "--Hook", "--hook --outside-initramfs", "--outside-initramfs=false --hook", "--outside-initramfs=x",
	}
	for _, c := range cases {
		args := strings.Fields(c)
		fs := flag.NewFlagSet("imaboot-init", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		wantHook := fs.Bool("hook", false, "")
		wantRoot := fs.String("root", "", "")
		wantOutside := fs.Bool("outside-initramfs", false, "")
		wantErr := fs.Parse(args)

		o, err := parseArgs(args)
		hook, root := o.hook, o.root
		switch {
		case (err == nil) != (wantErr == nil):
			t.Errorf("%q: error %v, flag's %v", c, err, wantErr)
		case wantErr == flag.ErrHelp && err != errHelp:
			t.Errorf("%q: want help, got %v", c, err)
		case wantErr != nil && wantErr != flag.ErrHelp && err.Error() != wantErr.Error():
			t.Errorf("%q: error %q, flag's %q", c, err, wantErr)
		case wantErr == nil && (hook != *wantHook || root != *wantRoot || o.outsideInitramfs != *wantOutside):
			t.Errorf("%q: %+v, flag's hook=%v root=%q outside-initramfs=%v", c, o, *wantHook, *wantRoot, *wantOutside)
		}
	}
}
