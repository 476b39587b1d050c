package dpkglabel

import "strings"

// RealDpkgDeb is where dpkg-divert --rename moves the real dpkg-deb.
const RealDpkgDeb = "/usr/bin/dpkg-deb.distrib"

// ControlTarget returns the directory a dpkg-deb command line extracts the
// control members into ("--control DEB DIR", "-e DEB DIR"; DIR defaults to
// ./DEBIAN), or false for every other command.
func ControlTarget(args []string) (string, bool) {
	var rest []string
	control := false
	for i, a := range args {
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			goto done
		case a == "--control" || a == "-e":
			control = true
		case strings.HasPrefix(a, "-"):
			// dpkg-deb's other options take no separate argument except these.
			if a == "-Z" || a == "-z" || a == "-S" {
				return "", false
			}
		default:
			rest = append(rest, a)
		}
	}
done:
	if !control || len(rest) == 0 || len(rest) > 2 {
		return "", false
	}
	if len(rest) == 1 {
		return "DEBIAN", true
	}
	return rest[1], true
}
