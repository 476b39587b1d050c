package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errHelp: -h, -help or --help was given.
var errHelp = errors.New("help requested")

// parseArgs reads --hook and --root DIR the way package flag would
// (-x or --x, -x=v, a string flag's value as the next argument, parsing
// stops at "--" or the first non-flag argument): flag and what it links
// cost imaboot-init 36 KiB for two options. args_test.go holds it to
// flag's behaviour.
func parseArgs(args []string) (hook bool, root string, err error) {
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
			return false, "", fmt.Errorf("bad flag syntax: %s", a)
		}
		name, value, hasValue := strings.Cut(name, "=")
		switch name {
		case "hook":
			if !hasValue {
				hook = true
				continue
			}
			b, perr := strconv.ParseBool(value)
			if perr != nil {
				return false, "", fmt.Errorf("invalid boolean value %q for -hook: parse error", value)
			}
			hook = b
		case "root":
			if !hasValue {
				if len(args) == 0 {
					return false, "", errors.New("flag needs an argument: -root")
				}
				value, args = args[0], args[1:]
			}
			root = value
		case "h", "help":
			return false, "", errHelp
		default:
			return false, "", fmt.Errorf("flag provided but not defined: -%s", name)
		}
	}
	return hook, root, nil
}
