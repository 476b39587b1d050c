package initagent

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Level is a syslog level, as /dev/kmsg takes it.
type Level int

const (
	LevelError Level = 3
	LevelWarn  Level = 4
	LevelInfo  Level = 6
	LevelDebug Level = 7
)

func (l Level) String() string {
	switch l {
	case LevelError:
		return "error"
	case LevelWarn:
		return "warning"
	case LevelDebug:
		return "debug"
	}
	return "info"
}

// kmsgLineMax keeps a line well under the kernel's record limit (1024 bytes
// including the prefix) so it is never split or dropped.
const kmsgLineMax = 900

// Logger writes each line to the console and to the kernel log, both with
// the "imaboot:" prefix; the kernel log line also carries the level.
type Logger struct {
	mu      sync.Mutex
	Console io.Writer // nil: no console
	Kmsg    io.Writer // nil: no kernel log
	Debug   bool
}

// openKmsgWriter opens /dev/kmsg for the Logger to write to; nil when it
// cannot be opened (a hook without /dev, a host test). The reader that
// follows the kernel log is securityfs.OpenKmsgReader.
func openKmsgWriter() io.Writer {
	f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	return f
}

func (l *Logger) log(level Level, format string, args ...any) {
	if l == nil || (level == LevelDebug && !l.Debug) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		if l.Console != nil {
			if level == LevelInfo {
				fmt.Fprintf(l.Console, "imaboot: %s\n", line)
			} else {
				fmt.Fprintf(l.Console, "imaboot: %s: %s\n", level, line)
			}
		}
		if l.Kmsg != nil {
			if len(line) > kmsgLineMax {
				line = line[:kmsgLineMax] + "..."
			}
			// One write is one record; a failed write must not stop the boot.
			_, _ = fmt.Fprintf(l.Kmsg, "<%d>imaboot: %s\n", level, line)
		}
	}
}

func (l *Logger) Errorf(format string, args ...any) { l.log(LevelError, format, args...) }
func (l *Logger) Warnf(format string, args ...any)  { l.log(LevelWarn, format, args...) }
func (l *Logger) Infof(format string, args ...any)  { l.log(LevelInfo, format, args...) }
func (l *Logger) Debugf(format string, args ...any) { l.log(LevelDebug, format, args...) }
