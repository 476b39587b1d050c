package dpkglabel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

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

// IsFsysTarfile reports whether args are exactly what dpkg's unpack runs
// to read a package's data archive: "--fsys-tarfile DEB".
func IsFsysTarfile(args []string) bool {
	return len(args) == 2 && args[0] == "--fsys-tarfile" && !strings.HasPrefix(args[1], "-")
}

// Shim is the dpkg-deb that dpkg runs once imaboot-dpkg-hooks is enabled.
// It runs the real dpkg-deb for everything and adds two steps:
//   - after "--control DEB DIR" it labels the extracted maintainer scripts
//     (DIR/imasigs), before dpkg runs the new preinst;
//   - for "--fsys-tarfile DEB" run by dpkg (its parent) for a signed
//     package, it lets the real dpkg-deb write the data archive into dpkg's
//     pipe, adds tar's end marker, waits until dpkg has read all of it (dpkg
//     has then extracted every file as NAME.dpkg-new and renames them only
//     after this process exits), labels those files from the manifest and
//     only then exits. A signed file that cannot be labeled makes it exit 1:
//     dpkg then abandons the package before renaming anything into place.
type Shim struct {
	Real    string // the real dpkg-deb
	Stderr  io.Writer
	Verbose bool
	// ParentExe is the executable of the process that ran the shim
	// (readlink /proc/PPID/exe).
	ParentExe string
	// Root and AdminDir are dpkg's DPKG_ROOT and DPKG_ADMINDIR.
	Root, AdminDir string
}

// NewShim is the shim as dpkg runs it: IMABOOT_DPKG_DEB overrides the real
// binary's path (tests), IMABOOT_DPKG_DEB_VERBOSE=1 prints what it did.
func NewShim() *Shim {
	s := &Shim{
		Real:     RealDpkgDeb,
		Stderr:   os.Stderr,
		Verbose:  os.Getenv("IMABOOT_DPKG_DEB_VERBOSE") != "",
		Root:     os.Getenv("DPKG_ROOT"),
		AdminDir: os.Getenv("DPKG_ADMINDIR"),
	}
	if p := os.Getenv("IMABOOT_DPKG_DEB"); p != "" {
		s.Real = p
	}
	s.ParentExe, _ = os.Readlink("/proc/" + strconv.Itoa(os.Getppid()) + "/exe")
	return s
}

// Run runs dpkg-deb with args and returns the exit status.
func (s *Shim) Run(args []string) int {
	if dir, ok := ControlTarget(args); ok {
		return s.control(args, dir)
	}
	if IsFsysTarfile(args) && filepath.Base(s.ParentExe) == "dpkg" && s.AdminDir != "" && isPipe(1) {
		return s.data(args)
	}
	return s.exec(args)
}

func (s *Shim) printf(format string, a ...any) {
	fmt.Fprintf(s.Stderr, "imaboot-dpkg-deb: "+format+"\n", a...)
}

// exec replaces the shim with the real dpkg-deb.
func (s *Shim) exec(args []string) int {
	err := syscall.Exec(s.Real, append([]string{"dpkg-deb"}, args...), os.Environ())
	s.printf("exec %s: %v", s.Real, err)
	return 2
}

// runReal runs the real dpkg-deb as a child with the shim's standard
// files; it returns the child's exit status, or -1 with an error when it
// could not run.
func (s *Shim) runReal(args []string) (int, error) {
	cmd := exec.Command(s.Real, args...)
	cmd.Args[0] = "dpkg-deb"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	if err != nil {
		return -1, fmt.Errorf("run %s: %w", s.Real, err)
	}
	return 0, nil
}

// control runs "dpkg-deb --control DEB DIR" and labels the members. It
// never changes dpkg-deb's exit status: a member that cannot be labeled is
// reported and stays unlabeled, so the kernel refuses to run it.
func (s *Shim) control(args []string, dir string) int {
	rc, err := s.runReal(args)
	if err != nil {
		s.printf("%v", err)
		return 2
	}
	if rc != 0 {
		return rc
	}
	n, bad, err := LabelControlDir(dir, Labeling{Recreate: NewRecreator(s.Root)})
	for _, e := range bad {
		s.printf("not labeled: %v", e)
	}
	if err != nil {
		s.printf("%v", err)
	}
	if s.Verbose {
		s.printf("%s: %d control members labeled", dir, n)
	}
	return 0
}

// data runs "dpkg-deb --fsys-tarfile DEB" for dpkg and labels the files
// dpkg extracted from it before exiting (see Shim).
func (s *Shim) data(args []string) int {
	x := Extraction{Root: s.Root, AdminDir: s.AdminDir}
	m, err := x.ReadManifest()
	if err != nil {
		s.printf("%v; the package is not unpacked", err)
		return 2
	}
	if m == nil {
		return s.exec(args) // not signed: nothing to wait for
	}
	pkg, err := x.Package()
	if err != nil {
		s.printf("%v; the package is not unpacked", err)
		return 2
	}
	rc, err := s.runReal(args)
	if err != nil {
		s.printf("%v", err)
		return 2
	}
	if rc != 0 {
		return rc // dpkg reports the real dpkg-deb's failure
	}
	// From here a closed pipe is an error to handle, not a reason to die.
	signal.Ignore(unix.SIGPIPE)
	// err, not a new variable: waitConsumed's answer (dpkg gone, a failed
	// FIONREAD) must reach the checks below.
	if err = writeAll(1, endPadding); err == nil {
		err = waitConsumed(1)
	} else if !errors.Is(err, errReaderGone) {
		s.printf("%s: write to dpkg: %v", pkg, err)
		return 2
	}
	if errors.Is(err, errReaderGone) {
		// dpkg stopped extracting (it says why) and removes what it
		// extracted: nothing to label.
		return 1
	}
	if err != nil {
		s.printf("%s: %v", pkg, err)
		return 2
	}
	res, err := x.LabelExtracted(pkg, m, Labeling{Recreate: NewRecreator(s.Root)})
	if err != nil {
		s.printf("%s: %v; the package is not unpacked", pkg, err)
		return 2
	}
	for _, e := range res.Mismatches {
		s.printf("%s: not labeled: %v", pkg, e)
	}
	if res.Failed() {
		s.printf("%s: %d signed files cannot be labeled: the unpack is stopped before dpkg puts any file of it in place (an installed version stays as it was)", pkg, len(res.Mismatches))
		return 1
	}
	if s.Verbose {
		s.printf("%s: %d labeled, %d already labeled, %d not extracted by dpkg", pkg, res.Labeled, res.Verified, res.Skipped)
	}
	return 0
}
