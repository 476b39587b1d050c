package keyload

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CertSet is certificate files read and parsed but not yet handed to the
// kernel: the boot agent reads them while it waits for the root device, and
// loads them once the root is mounted.
type CertSet struct {
	Sources []string // directories and files read
	// Results holds, in order, each parsed certificate (Cert set, Key 0)
	// and each file that did not read or parse (Err set).
	Results []CertResult
}

// ReadCertificates reads and parses every regular file of dir (sorted by
// name; hidden files and subdirectories skipped). A missing or unreadable
// dir is an error wrapping the errno (errors.Is(err, fs.ErrNotExist) for a
// missing one); a file that does not parse is in Results.
func ReadCertificates(dir string) (CertSet, error) {
	set := CertSet{Sources: []string{dir}}
	files, err := certFilesIn(dir)
	if err != nil {
		return set, err
	}
	set.Results = certReadFiles(files)
	return set, nil
}

// ReadCertificateFiles is ReadCertificates for a list of files, such as
// dracut's single EVMX509 certificate.
func ReadCertificateFiles(files []string) CertSet {
	return CertSet{Sources: files, Results: certReadFiles(files)}
}

func certFilesIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("certificate directory: %w", err)
	}
	var files []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		st, err := os.Stat(path) // follows symlinks
		if err != nil || st.Mode().IsRegular() {
			// A dangling link is reported as that file's read error.
			files = append(files, path)
		}
	}
	sort.Strings(files)
	return files, nil
}

func certReadFiles(files []string) []CertResult {
	var results []CertResult
	for _, file := range files {
		certs, err := ReadCertificateFile(file)
		if err != nil {
			results = append(results, CertResult{File: file, Err: err})
			continue
		}
		for _, c := range certs {
			results = append(results, CertResult{File: file, Cert: c})
		}
	}
	return results
}
