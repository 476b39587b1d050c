package securityfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Measurement is one line of ima/ascii_runtime_measurements:
//
//	10 <template hash> ima-sig sha256:<file hash> /usr/bin/true [signature]
type Measurement struct {
	PCR          int
	TemplateHash string
	Template     string // ima-ng, ima-sig, ima, …
	FileHash     string // "algo:hex" (ima-ng, ima-sig) or hex (ima)
	Path         string
	Extra        []string // template fields after the path, e.g. the signature
}

// MeasurementCount is the number of entries in the IMA measurement list,
// from ima/runtime_measurements_count, or by counting
// ascii_runtime_measurements where that file is missing.
func MeasurementCount(fs FS) (int, error) {
	p := fs.path("ima", "runtime_measurements_count")
	data, err := os.ReadFile(p)
	if err == nil {
		n, perr := strconv.Atoi(strings.TrimSpace(string(data)))
		if perr != nil {
			return 0, fmt.Errorf("IMA measurements: %s holds %q, not a number", p, data)
		}
		return n, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("IMA measurements: %w", err)
	}
	list, err := Measurements(fs)
	return len(list), err
}

// Measurements reads the ASCII measurement list. A path containing spaces
// is cut at the first one (the kernel does not quote it).
func Measurements(fs FS) ([]Measurement, error) {
	p := fs.path("ima", "ascii_runtime_measurements")
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("IMA measurements: %w", err)
	}
	defer f.Close()
	var list []Measurement
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 5 {
			return list, fmt.Errorf("IMA measurements: %s line %d: %d fields, want at least 5", p, line, len(fields))
		}
		pcr, err := strconv.Atoi(fields[0])
		if err != nil {
			return list, fmt.Errorf("IMA measurements: %s line %d: PCR %q is not a number", p, line, fields[0])
		}
		list = append(list, Measurement{
			PCR: pcr, TemplateHash: fields[1], Template: fields[2], FileHash: fields[3],
			Path: fields[4], Extra: fields[5:],
		})
	}
	if err := sc.Err(); err != nil {
		return list, fmt.Errorf("IMA measurements: read %s: %w", p, err)
	}
	return list, nil
}
