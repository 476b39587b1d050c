package uefi

import (
	"fmt"
	"regexp"
	"time"

	"github.com/imaboot/imaboot/integration/vm"
)

// Keys as a VT100 terminal sends them; OVMF's terminal driver turns them
// into EFI key strokes.
const (
	keyDown  = "\x1b[B"
	keyEnter = "\r"
)

// EnrollMOK answers MokManager's screens on a machine that boots with a MOK
// request pending (mokutil --import ran in the boot before): press a key
// before its countdown ends, Enroll MOK, Continue, Yes, the password given
// to mokutil, Reboot. The machine then resets; with QEMU's -no-reboot it
// exits, and its variable store holds the key in MokList. Each screen is
// awaited (its text after the previous key) and the key sent a moment
// after it is drawn: MokManager reads keys only once a menu is up.
func EnrollMOK(m *vm.Machine, password string, timeout time.Duration) error {
	steps := []struct {
		screen string
		keys   []string
	}{
		{`Press any key to perform MOK management`, []string{" "}},
		{`Enroll hash from disk`, []string{keyDown, keyEnter}}, // main menu: Continue boot, Enroll MOK, …
		{`View key 0[\s\S]*Continue`, []string{keyDown, keyEnter}},
		{`Enroll the key\(s\)\?[\s\S]*Yes`, []string{keyDown, keyEnter}},
		{`Password:`, []string{password + keyEnter}},
		{`Reboot`, []string{keyEnter}},
	}
	deadline := time.Now().Add(timeout)
	mark := 0
	for _, s := range steps {
		if _, err := m.ExpectFrom(mark, regexp.MustCompile(s.screen), time.Until(deadline)); err != nil {
			return fmt.Errorf("MokManager: %w", err)
		}
		mark = m.Mark()
		for _, k := range s.keys {
			time.Sleep(time.Second)
			if err := m.Send(k); err != nil {
				return fmt.Errorf("MokManager: type on the console: %w", err)
			}
		}
	}
	if err := m.Wait(time.Until(deadline)); err != nil {
		return fmt.Errorf("MokManager: the machine did not reset after enrolling: %w", err)
	}
	return nil
}
