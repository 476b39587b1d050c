package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errHelp: -h, -help or --help was given.
var errHelp = errors.New("help requested")

// options are the command line of a run that is not PID 1.
type options struct {
	hook bool
	root string
	// outsideInitramfs lets --hook run on a system that is not in an
	// initramfs (InInitramfs says no): a deliberate, rare case.
	outsideInitramfs bool
}

// parseArgs reads --hook, --outside-initramfs and --root DIR the way package
// flag would (-x or --x, -x=v, a string flag's value as the next argument,
// parsing stops at "--" or the first non-flag argument): flag and what it
// links cost imaboot-init 36 KiB for three options. args_test.go holds it to
// flag's behaviour.
func parseArgs(args []string) (options, error) {
	var o options
	for len(args) > 0 {
		a := args[0]
		if len(a) < 2 || a[0] != '-' {
			break
		}
		args = args[1:]
		name := a[1:]
		if name[0] == '-' {
			name = name[1:]
			if name == "" { // "--" ends the flags
				break
			}
		}
		if name[0] == '-' || name[0] == '=' {
			return options{}, fmt.Errorf("bad flag syntax: %s", a)
		}
		name, value, hasValue := strings.Cut(name, "=")
		switch name {
		case "hook", "outside-initramfs":
			b := true
			if hasValue {
				var perr error
				if b, perr = strconv.ParseBool(value); perr != nil {
					return options{}, fmt.Errorf("invalid boolean value %q for -%s: parse error", value, name)
				}
			}
			if name == "hook" {
				o.hook = b
			} else {
				o.outsideInitramfs = b
			}
		case "root":
			if !hasValue {
				if len(args) == 0 {
					return options{}, errors.New("flag needs an argument: -root")
				}
				value, args = args[0], args[1:]
			}
			o.root = value
		case "h", "help":
			return options{}, errHelp
		default:
			return options{}, fmt.Errorf("flag provided but not defined: -%s", name)
		}
	}
	return o, nil
}
