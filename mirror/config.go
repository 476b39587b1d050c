package mirror

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Config is a mirror's configuration: the config file's keys (in the
// spirit of the seed's secdebmirror) and the command's flags set the same
// fields.
type Config struct {
	Upstream string // the local archive read (debmirror's or apt-mirror's output)
	Basedir  string // the published mirror
	Origin   string // Release's Origin (default upstream's)
	Label    string // Release's Label (default Origin)

	Suites, Components, Architectures []string

	Signingkey             string // OpenPGP secret key file (gpg --export-secret-keys)
	SigningkeyPasswordFile string // its passphrase, first line
	Key, Certificate       string // the IMA signing key (PEM) and its certificate
	Hash                   string // sha256 (default) or sha512
	Workers                int    // packages signed at once (default: the number of CPUs)

	UpstreamKeyring         []string // keyrings upstream's Release must be signed by
	AllowUnverifiedUpstream bool     // no UpstreamKeyring: trust the local copy as it is

	KeyPackage, KeyPackageVersion string // the certificate's package (default: Origin, the certificate's date)
	PublishUnsigned               bool   // publish a package that cannot be signed unsigned instead of leaving it out
}

// configKeys maps a config file key (lower case) to its setter.
var configKeys = map[string]func(c *Config, v string) error{
	"upstream":                func(c *Config, v string) error { c.Upstream = v; return nil },
	"basedir":                 func(c *Config, v string) error { c.Basedir = v; return nil },
	"origin":                  func(c *Config, v string) error { c.Origin = v; return nil },
	"label":                   func(c *Config, v string) error { c.Label = v; return nil },
	"suites":                  func(c *Config, v string) error { c.Suites = SplitList(v); return nil },
	"components":              func(c *Config, v string) error { c.Components = SplitList(v); return nil },
	"architectures":           func(c *Config, v string) error { c.Architectures = SplitList(v); return nil },
	"signingkey":              func(c *Config, v string) error { c.Signingkey = v; return nil },
	"signingkeypasswordfile":  func(c *Config, v string) error { c.SigningkeyPasswordFile = v; return nil },
	"key":                     func(c *Config, v string) error { c.Key = v; return nil },
	"certificate":             func(c *Config, v string) error { c.Certificate = v; return nil },
	"hash":                    func(c *Config, v string) error { c.Hash = v; return nil },
	"workers":                 func(c *Config, v string) error { return parseInt(v, &c.Workers) },
	"threads":                 func(c *Config, v string) error { return parseInt(v, &c.Workers) }, // the older spelling
	"upstreamkeyring":         func(c *Config, v string) error { c.UpstreamKeyring = SplitList(v); return nil },
	"allowunverifiedupstream": func(c *Config, v string) error { return parseBool(v, &c.AllowUnverifiedUpstream) },
	"keypackage":              func(c *Config, v string) error { c.KeyPackage = v; return nil },
	"keypackageversion":       func(c *Config, v string) error { c.KeyPackageVersion = v; return nil },
	"publishunsigned":         func(c *Config, v string) error { return parseBool(v, &c.PublishUnsigned) },
}

// ReadConfig reads a config file: "Key: value" lines (keys as in Config,
// case-insensitive), "#" comments, lists separated by spaces or commas.
// Relative paths are taken from the file's directory.
func ReadConfig(path string) (Config, error) {
	var c Config
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return c, fmt.Errorf("%s:%d: %q is not \"Key: value\"", path, n, l)
		}
		set := configKeys[strings.ToLower(strings.TrimSpace(k))]
		if set == nil {
			return c, fmt.Errorf("%s:%d: unknown key %q", path, n, strings.TrimSpace(k))
		}
		if err := set(&c, strings.TrimSpace(v)); err != nil {
			return c, fmt.Errorf("%s:%d: %s: %v", path, n, strings.TrimSpace(k), err)
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&c.Upstream, &c.Basedir, &c.Signingkey, &c.SigningkeyPasswordFile, &c.Key, &c.Certificate} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i, p := range c.UpstreamKeyring {
		if !filepath.IsAbs(p) {
			c.UpstreamKeyring[i] = filepath.Join(dir, p)
		}
	}
	return c, nil
}

// SplitList splits "a b,c" into its items.
func SplitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

func parseInt(v string, out *int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("%q: want a whole number, 0 or more", v)
	}
	*out = n
	return nil
}

func parseBool(v string, out *bool) error {
	switch strings.ToLower(v) {
	case "yes", "true", "1":
		*out = true
	case "no", "false", "0", "":
		*out = false
	default:
		return fmt.Errorf("%q: want yes or no", v)
	}
	return nil
}

// check says what is missing or contradictory, before anything is read.
func (c *Config) check() error {
	var missing []string
	for name, v := range map[string]string{"Upstream": c.Upstream, "Basedir": c.Basedir, "Signingkey": c.Signingkey, "Key": c.Key, "Certificate": c.Certificate} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	for name, v := range map[string][]string{"Suites": c.Suites, "Components": c.Components, "Architectures": c.Architectures} {
		if len(v) == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if len(c.UpstreamKeyring) == 0 && !c.AllowUnverifiedUpstream {
		return fmt.Errorf("no UpstreamKeyring: give the keyring upstream's Release is signed by (for Debian /usr/share/keyrings/debian-archive-keyring.gpg), or AllowUnverifiedUpstream: yes to sign whatever the local copy holds")
	}
	up, err := filepath.Abs(c.Upstream)
	if err != nil {
		return err
	}
	base, err := filepath.Abs(c.Basedir)
	if err != nil {
		return err
	}
	if within(base, up) || within(up, base) {
		return fmt.Errorf("the mirror (Basedir %s) and its source (Upstream %s) overlap: the mirror is published beside its source, never in it", base, up)
	}
	c.Upstream, c.Basedir = up, base
	for _, a := range c.Architectures {
		if a == "all" || a == "source" {
			return fmt.Errorf("architecture %q: name binary architectures (Architecture: all packages come with them)", a)
		}
	}
	return nil
}

func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && (rel == "." || filepath.IsLocal(rel))
}
