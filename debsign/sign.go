package debsign

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/imaboot/imaboot/deb"
	"github.com/imaboot/imaboot/imasigs"
	"github.com/imaboot/imaboot/relabel"
)

// maintainerScripts are the control members dpkg executes.
var maintainerScripts = map[string]bool{"preinst": true, "postinst": true, "prerm": true, "postrm": true, "config": true}

// Result counts what signing one package did.
type Result struct {
	Signed  int   // manifest entries
	Mutable int   // files left unsigned as configuration
	Dropped int   // files whose names a manifest cannot hold (a newline): not signed
	Bytes   int64 // content hashed
	// ReplacedKeys are the key ids (8 hex digits) of an earlier imasigs
	// manifest, signed by another key, that this one replaced.
	ReplacedKeys []string
}

// SignPackage adds (or replaces) the imasigs manifest of p.
func SignPackage(p *deb.Package, s *relabel.Signer, algo relabel.HashAlgo) (Result, error) {
	var res Result
	ctl, err := p.ControlFiles()
	if err != nil {
		return res, err
	}
	conffiles := map[string]bool{}
	var kept []deb.File
	var jobs []job
	for _, f := range ctl {
		name := f.Name()
		if name == imasigs.ControlMember {
			res.ReplacedKeys = otherKeys(f.Data, s.KeyID)
			continue // re-signing replaces it
		}
		kept = append(kept, f)
		if f.Header.Typeflag != tar.TypeReg {
			continue
		}
		if name == "conffiles" {
			for _, l := range strings.Split(string(f.Data), "\n") {
				// "remove-on-upgrade /etc/x" carries a flag before the path.
				if fs := strings.Fields(l); len(fs) > 0 {
					conffiles[fs[len(fs)-1]] = true
				}
			}
		}
		if maintainerScripts[name] || f.Header.Mode&0o111 != 0 {
			jobs = append(jobs, job{path: imasigs.ControlPrefix + name, digest: digest(algo, f.Data)})
			res.Bytes += int64(len(f.Data))
		}
	}
	digests := map[string][]byte{} // for hard links
	err = p.WalkData(func(h *tar.Header, r io.Reader) error {
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeLink {
			return nil // symlinks, directories, devices: nothing to sign
		}
		path, err := entryPath(h.Name)
		if err != nil {
			return err
		}
		var d []byte
		switch h.Typeflag {
		case tar.TypeReg: // archive/tar reports the old "\x00" type as TypeReg
			ch, _ := algo.CryptoHash()
			hh := ch.New()
			n, err := io.Copy(hh, r)
			if err != nil {
				return err
			}
			res.Bytes += n
			d = hh.Sum(nil)
			digests[path] = d
		case tar.TypeLink:
			target, err := entryPath(h.Linkname)
			if err != nil {
				return fmt.Errorf("hard link target: %w", err)
			}
			if d = digests[target]; d == nil {
				return fmt.Errorf("hard link to %s, which is not an earlier regular file", target)
			}
		}
		if imasigs.ValidPath(path) != nil {
			res.Dropped++ // a name the manifest cannot hold
			return nil
		}
		if h.Mode&0o111 == 0 && (conffiles[path] || path == "/etc" || strings.HasPrefix(path, "/etc/")) {
			res.Mutable++
			return nil
		}
		jobs = append(jobs, job{path: path, digest: d})
		return nil
	})
	if err != nil {
		return res, err
	}
	m := &imasigs.Manifest{}
	if m.Entries, err = signAll(s, algo, jobs); err != nil {
		return res, err
	}
	b, err := m.Marshal()
	if err != nil {
		return res, err
	}
	res.Signed = len(m.Entries)
	kept = append(kept, deb.File{Header: manifestHeader(ctl, len(b)), Data: b})
	return res, p.SetControl(kept)
}

// entryPath is a data.tar name as the path dpkg installs it at (and lists
// in PKG.list): "./usr//bin/./x" is /usr/bin/x. A ".." component is
// refused, as dpkg refuses it.
func entryPath(name string) (string, error) {
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", fmt.Errorf("entry %q has a \"..\" component", name)
		}
	}
	p := path.Clean("/" + name)
	if p == "/" {
		return "", fmt.Errorf("entry %q names no file", name)
	}
	return p, nil
}

// otherKeys lists the key ids of an existing manifest's signatures that
// are not keyID (nothing when it cannot be read: it is replaced anyway).
func otherKeys(manifest []byte, keyID uint32) []string {
	m, err := imasigs.Parse(bytes.NewReader(manifest))
	if err != nil {
		return nil
	}
	seen := map[uint32]bool{}
	var out []string
	for _, e := range m.Entries {
		l, err := relabel.ParseLabel(e.Label)
		if err != nil || l.KeyID == keyID || seen[l.KeyID] {
			continue
		}
		seen[l.KeyID] = true
		out = append(out, fmt.Sprintf("%08x", l.KeyID))
	}
	return out
}

// manifestHeader gives the manifest the owner and time of the control file.
func manifestHeader(ctl []deb.File, size int) *tar.Header {
	h := &tar.Header{Typeflag: tar.TypeReg, Name: "./" + imasigs.ControlMember, Mode: 0o644, Size: int64(size), Format: tar.FormatGNU}
	for _, f := range ctl {
		if f.Name() == "control" {
			h.ModTime, h.Uname, h.Gname, h.Uid, h.Gid = f.Header.ModTime, f.Header.Uname, f.Header.Gname, f.Header.Uid, f.Header.Gid
			if !strings.HasPrefix(f.Header.Name, "./") {
				h.Name = imasigs.ControlMember
			}
		}
	}
	return h
}

type job struct {
	path   string
	digest []byte
}

func digest(algo relabel.HashAlgo, b []byte) []byte {
	ch, _ := algo.CryptoHash()
	h := ch.New()
	h.Write(b)
	return h.Sum(nil)
}

// signAll signs the digests on every core: signing, not hashing, is the
// cost with RSA.
func signAll(s *relabel.Signer, algo relabel.HashAlgo, jobs []job) ([]imasigs.Entry, error) {
	es := make([]imasigs.Entry, len(jobs))
	err := parallel(len(jobs), func(i int) error {
		l, err := s.SignLabel(relabel.TypeSignature, algo, jobs[i].digest)
		if err != nil {
			return fmt.Errorf("%s: %w", jobs[i].path, err)
		}
		es[i] = imasigs.Entry{Path: jobs[i].path, Algo: algo, Digest: jobs[i].digest, Label: l}
		return nil
	})
	return es, err
}

// ReadManifest returns the imasigs member of p, nil when it has none.
func ReadManifest(p *deb.Package) (*imasigs.Manifest, error) {
	ctl, err := p.ControlFiles()
	if err != nil {
		return nil, err
	}
	for _, f := range ctl {
		if f.Name() == imasigs.ControlMember {
			return imasigs.Parse(bytes.NewReader(f.Data))
		}
	}
	return nil, nil
}
