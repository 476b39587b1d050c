package initagent

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imaboot/imaboot/keyload"
	"github.com/imaboot/imaboot/securityfs"
)

// ConfigPath is where imaboot-mkinitramfs puts the configuration.
const ConfigPath = "/etc/imaboot/imaboot.conf"

// Mode is the failure policy.
type Mode string

const (
	// Enforce halts before the switch when any step fails.
	Enforce Mode = "enforce"
	// Permissive warns and continues.
	Permissive Mode = "permissive"
)

// HaltAction is what an enforce-mode failure does once the reason is printed.
type HaltAction string

const (
	// HaltStop stops the CPUs: the machine stays at the message (default).
	HaltStop HaltAction = "halt"
	// HaltPowerOff powers the machine off (VMs, test rigs).
	HaltPowerOff HaltAction = "poweroff"
)

// Config is /etc/imaboot/imaboot.conf (over dracut's sysconfig files) after
// the kernel command line's overrides (ApplyCmdline). Every field has a key;
// keys are documented in the README and in configKeys below.
type Config struct {
	Mode            Mode
	Modules         []string      // loaded in dependency order, after modules.load
	RootTimeout     time.Duration // how long to wait for root= to appear
	Init            string        // the root's init (init= overrides)
	Halt            HaltAction
	Debug           bool
	CmdlineOverride bool // whether imaboot.* on the kernel command line is honoured

	IMAKeysDir string // certificates for the IMA keyring
	EVMKeysDir string // certificates for the EVM keyring
	EVMX509    string // one more EVM certificate file (dracut's EVMX509)
	IMAPolicy  string // the policy file; "" = load no policy
	// MinIMACerts is how many IMA certificates must load; -1 means the
	// default: 1 in enforce mode, 0 in permissive mode.
	MinIMACerts int
	// KeysFromRoot reads certificates and the policy from the mounted root
	// instead of the initramfs (dracut's behaviour; weaker: an offline edit
	// of the root disk can swap them).
	KeysFromRoot bool

	// MasterKeyMode (MASTER_KEY_TYPE) says where the EVM master key comes
	// from; the names are keyload's (tpm, trusted, user, none).
	MasterKeyMode keyload.MasterKeyMode
	MasterKey     string // the sealed blob (tpm, trusted) or key file (user)
	MasterKeyName string // kernel name of the master key
	EVMKey        string // the encrypted EVM key blob
	EVMBits       string // extra bits for /sys/kernel/security/evm
	TPMDevice     string
	TPMWait       time.Duration

	// SealKeyrings (KEYRINGS=seal, the default) closes _ima and _evm to
	// every later key once the certificates are in (keyrings.go).
	SealKeyrings bool
	// Lockdown (LOCKDOWN) is the kernel lockdown level raised before the
	// switch; "" is the default, EffectiveLockdown.
	Lockdown securityfs.LockdownLevel
	// BreakGlassAllowed (BREAK_GLASS, default yes) lets imaboot.break_glass
	// on the kernel command line bring up one boot that enforces nothing;
	// with no, the command line cannot weaken enforcement at all.
	BreakGlassAllowed bool
	// BreakGlass: imaboot.break_glass was on the command line and allowed
	// (breakglass.go). It makes Mode permissive.
	BreakGlass bool

	// Trust says which certificates may enter _ima and _evm: any the
	// initramfs holds (TrustAny), or only those the owner's CA signed
	// (TrustOwnerCA), the CA being the trusted key whose key id is TrustCA.
	Trust   TrustMode
	TrustCA string // NormalizeKeyID's form
}

// TrustMode is TRUST=.
type TrustMode string

const (
	// TrustAny loads every certificate of the initramfs (TRUST=none).
	TrustAny TrustMode = "none"
	// TrustOwnerCA loads only certificates signed by the owner's CA, a key
	// the kernel trusts (.machine, .secondary_trusted_keys,
	// .builtin_trusted_keys): TRUST=ca.
	TrustOwnerCA TrustMode = "ca"
)

// DefaultConfig is the configuration when the file is absent or silent.
func DefaultConfig() Config {
	return Config{
		Mode:              Enforce,
		RootTimeout:       30 * time.Second,
		Init:              "/sbin/init",
		Halt:              HaltStop,
		CmdlineOverride:   true,
		IMAKeysDir:        "/etc/keys/ima",
		EVMKeysDir:        "/etc/keys/evm",
		IMAPolicy:         "/etc/imaboot/ima-policy",
		MinIMACerts:       -1,
		MasterKeyMode:     keyload.MasterKeyNone,
		MasterKey:         "/etc/keys/kmk.sealed",
		MasterKeyName:     "kmk",
		EVMKey:            "/etc/keys/evm-key.blob",
		TPMDevice:         "/dev/tpmrm0",
		TPMWait:           3 * time.Second,
		SealKeyrings:      true,
		BreakGlassAllowed: true,
		Trust:             TrustAny,
	}
}

// EffectiveLockdown is the lockdown level to raise: LOCKDOWN when set, else
// integrity in enforce mode and none in permissive mode or a break-glass
// boot.
func (c *Config) EffectiveLockdown() securityfs.LockdownLevel {
	switch {
	case c.Lockdown != "":
		return c.Lockdown
	case c.Mode == Enforce && !c.BreakGlass:
		return securityfs.LockdownIntegrity
	}
	return securityfs.LockdownNone
}

// configKey sets one key from its text value.
type configKey struct {
	doc string
	set func(c *Config, v string) error
}

// configKeys lists every key of imaboot.conf; cmdlineKeys says which of
// them the kernel command line may override.
var configKeys = map[string]configKey{
	"MODE": {"enforce (default) or permissive", func(c *Config, v string) error {
		switch Mode(v) {
		case Enforce, Permissive:
			c.Mode = Mode(v)
			return nil
		}
		return fmt.Errorf("MODE must be enforce or permissive, not %q", v)
	}},
	"MODULES": {"kernel modules to load (names, space or comma separated), with their dependencies", func(c *Config, v string) error {
		c.Modules = splitList(v)
		return nil
	}},
	"ROOT_TIMEOUT": {"seconds to wait for the root device (default 30; rootdelay= overrides)", func(c *Config, v string) error {
		d, err := parseSeconds(v)
		if err != nil {
			return fmt.Errorf("ROOT_TIMEOUT: %w", err)
		}
		c.RootTimeout = d
		return nil
	}},
	"INIT": {"the root's init (default /sbin/init; init= overrides)", func(c *Config, v string) error {
		if !strings.HasPrefix(v, "/") {
			return fmt.Errorf("INIT must be an absolute path, not %q", v)
		}
		c.Init = v
		return nil
	}},
	"HALT": {"what enforce does after a failure: halt (default) or poweroff; never reboot", func(c *Config, v string) error {
		switch HaltAction(v) {
		case HaltStop, HaltPowerOff:
			c.Halt = HaltAction(v)
			return nil
		}
		return fmt.Errorf("HALT must be halt or poweroff, not %q", v)
	}},
	"DEBUG": {"yes to log debug lines", func(c *Config, v string) error {
		b, err := parseBool(v)
		c.Debug = b
		return err
	}},
	"IMA_KEYS_DIR": {"certificates loaded into the IMA keyring (default /etc/keys/ima; dracut: IMAKEYSDIR)", func(c *Config, v string) error {
		return setAbs(&c.IMAKeysDir, "IMA_KEYS_DIR", v)
	}},
	"EVM_KEYS_DIR": {"certificates loaded into the EVM keyring (default /etc/keys/evm; dracut: EVMKEYSDIR)", func(c *Config, v string) error {
		return setAbs(&c.EVMKeysDir, "EVM_KEYS_DIR", v)
	}},
	"EVM_X509": {"one more EVM certificate file (dracut: EVMX509)", func(c *Config, v string) error {
		if v == "" {
			c.EVMX509 = ""
			return nil
		}
		return setAbs(&c.EVMX509, "EVM_X509", v)
	}},
	"IMA_POLICY": {"the IMA policy file (default /etc/imaboot/ima-policy; empty: load no policy; dracut: IMAPOLICY)", func(c *Config, v string) error {
		if v == "" {
			c.IMAPolicy = ""
			return nil
		}
		return setAbs(&c.IMAPolicy, "IMA_POLICY", v)
	}},
	"MIN_IMA_CERTS": {"IMA certificates that must load (default 1 in enforce mode, 0 in permissive)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("MIN_IMA_CERTS must be a number >= 0, not %q", v)
		}
		c.MinIMACerts = n
		return nil
	}},
	"KEYS_FROM_ROOT": {"yes to read certificates and the policy from the root file system instead of the initramfs (dracut's way; default no)", func(c *Config, v string) error {
		b, err := parseBool(v)
		c.KeysFromRoot = b
		return err
	}},
	"MASTER_KEY_TYPE": {"tpm, trusted, user or none (default none; dracut: MASTERKEYTYPE)", func(c *Config, v string) error {
		m, err := keyload.ParseMasterKeyMode(v)
		if err != nil {
			return fmt.Errorf("MASTER_KEY_TYPE %w", err)
		}
		c.MasterKeyMode = m
		return nil
	}},
	"MASTER_KEY": {"the sealed master key blob, or the key file for user (default /etc/keys/kmk.sealed; dracut: MASTERKEY)", func(c *Config, v string) error {
		return setAbs(&c.MasterKey, "MASTER_KEY", v)
	}},
	"MASTER_KEY_NAME": {"kernel name of the master key (default kmk)", func(c *Config, v string) error {
		if v == "" || strings.ContainsAny(v, " :") {
			return fmt.Errorf("MASTER_KEY_NAME %q: no spaces or colons", v)
		}
		c.MasterKeyName = v
		return nil
	}},
	"EVM_KEY": {"the encrypted EVM key blob (default /etc/keys/evm-key.blob; dracut: EVMKEY)", func(c *Config, v string) error {
		return setAbs(&c.EVMKey, "EVM_KEY", v)
	}},
	"EVM_BITS": {"extra bits written to /sys/kernel/security/evm (dracut: EVM_ACTIVATION_BITS)", func(c *Config, v string) error {
		c.EVMBits = v
		return nil
	}},
	"TPM_DEVICE": {"the TPM (default /dev/tpmrm0)", func(c *Config, v string) error {
		return setAbs(&c.TPMDevice, "TPM_DEVICE", v)
	}},
	"TPM_WAIT": {"seconds to wait for the TPM device to appear (default 3)", func(c *Config, v string) error {
		d, err := parseSeconds(v)
		c.TPMWait = d
		return err
	}},
	"TRUST": {"none (default: every certificate of the initramfs) or ca (only certificates signed by the owner's CA, TRUST_CA)", func(c *Config, v string) error {
		switch TrustMode(v) {
		case TrustAny, TrustOwnerCA:
			c.Trust = TrustMode(v)
			return nil
		}
		return fmt.Errorf("TRUST must be none or ca, not %q", v)
	}},
	"TRUST_CA": {"key id (SubjectKeyIdentifier, hex) of the owner's CA, which the kernel must trust (a Machine Owner Key in .machine)", func(c *Config, v string) error {
		id, err := keyload.NormalizeKeyID(v)
		if err != nil {
			return fmt.Errorf("TRUST_CA: %w", err)
		}
		c.TrustCA = id
		return nil
	}},
	"CMDLINE_OVERRIDE": {"no to ignore imaboot.* on the kernel command line (default yes)", func(c *Config, v string) error {
		b, err := parseBool(v)
		c.CmdlineOverride = b
		return err
	}},
	"KEYRINGS": {"seal (default): close _ima and _evm to every later key once loaded; open: leave them open (with TRUST=ca: _ima_ca and _evm_ca, to certificates the owner's CA signed)", func(c *Config, v string) error {
		switch v {
		case "seal":
			c.SealKeyrings = true
		case "open":
			c.SealKeyrings = false
		default:
			return fmt.Errorf("KEYRINGS must be seal or open, not %q", v)
		}
		return nil
	}},
	"LOCKDOWN": {"kernel lockdown raised before the switch: integrity, confidentiality or none (default integrity in enforce mode, none in permissive mode); never lowered", func(c *Config, v string) error {
		l, err := securityfs.ParseLockdownLevel(v)
		if err != nil {
			return fmt.Errorf("LOCKDOWN: %w", err)
		}
		c.Lockdown = l
		return nil
	}},
	"BREAK_GLASS": {"no to refuse imaboot.break_glass (and imaboot.mode=permissive) on the kernel command line (default yes)", func(c *Config, v string) error {
		b, err := parseBool(v)
		c.BreakGlassAllowed = b
		return err
	}},
}

// breakGlassParam is the kernel parameter that asks for a break-glass boot
// (breakglass.go); BREAK_GLASS decides whether it is honoured.
const breakGlassParam = "imaboot.break_glass"

// dracutKeys are the variables of dracut's /etc/sysconfig/ima and
// /etc/sysconfig/evm, read as the imaboot key they mean.
var dracutKeys = map[string]string{
	"IMAKEYSDIR": "IMA_KEYS_DIR",
	"IMAPOLICY":  "IMA_POLICY",
	"EVMKEYSDIR": "EVM_KEYS_DIR",
	"EVMX509":    "EVM_X509",
	// dracut's MASTERKEYTYPE "trusted" and "user" mean the same here.
	"MASTERKEYTYPE":       "MASTER_KEY_TYPE",
	"MASTERKEY":           "MASTER_KEY",
	"EVMKEY":              "EVM_KEY",
	"EVM_ACTIVATION_BITS": "EVM_BITS",
}

// DracutConfigPaths are dracut's integrity configuration files; when the
// initramfs has them they are read before imaboot.conf, which wins.
var DracutConfigPaths = []string{"/etc/sysconfig/ima", "/etc/sysconfig/evm", "/etc/sysconfig/masterkey"}

// cmdlineKeys is the allow-list of imaboot.* kernel parameters and the
// configuration key each overrides.
var cmdlineKeys = map[string]string{
	"imaboot.mode":         "MODE",
	"imaboot.debug":        "DEBUG",
	"imaboot.halt":         "HALT",
	"imaboot.root_timeout": "ROOT_TIMEOUT",
}

// ConfigError names the file and line of a bad configuration line.
type ConfigError struct {
	File string
	Line int
	Err  error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ParseConfig reads KEY=value lines over c. Blank lines and lines starting
// with # are ignored; values may be wrapped in single or double quotes (so
// shell-style files such as dracut's sysconfig files read the same). An
// unknown key or a malformed line is an error naming the line.
func ParseConfig(c *Config, name string, data []byte) error {
	return parseConfig(c, name, data, false)
}

// ParseDracutConfig reads one of dracut's sysconfig files: the variables
// imaboot knows are taken, others (dracut's own) are ignored.
func ParseDracutConfig(c *Config, name string, data []byte) error {
	return parseConfig(c, name, data, true)
}

func parseConfig(c *Config, name string, data []byte, lenient bool) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(strings.TrimPrefix(key, "export "))
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return &ConfigError{name, n, fmt.Errorf("not a KEY=value line: %q", line)}
		}
		v, err := unquote(strings.TrimSpace(val))
		if err != nil {
			return &ConfigError{name, n, err}
		}
		if alias, ok := dracutKeys[key]; ok {
			key = alias
		}
		k, known := configKeys[key]
		if !known && lenient {
			continue
		}
		if !known {
			return &ConfigError{name, n, fmt.Errorf("unknown key %s (known: %s)", key, strings.Join(knownKeys(), " "))}
		}
		if err := k.set(c, v); err != nil {
			return &ConfigError{name, n, err}
		}
	}
	return sc.Err()
}

// LoadConfig reads dracut's sysconfig files (those present) then the
// configuration file; missing files mean defaults.
func LoadConfig(path string, dracut []string) (Config, error) {
	c := DefaultConfig()
	for _, p := range dracut {
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return c, err
		}
		if err := ParseDracutConfig(&c, p, data); err != nil {
			return c, err
		}
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := ParseConfig(&c, path, data); err != nil {
		return c, err
	}
	if c.Trust == TrustOwnerCA && c.TrustCA == "" {
		return c, fmt.Errorf("%s: TRUST=ca needs TRUST_CA, the key id of the owner's CA (imaboot-ca new prints it)", path)
	}
	return c, nil
}

// MinIMACertificates is the effective minimum of loaded IMA certificates.
func (c *Config) MinIMACertificates() int {
	if c.MinIMACerts >= 0 {
		return c.MinIMACerts
	}
	if c.Mode == Enforce {
		return 1
	}
	return 0
}

// CmdlineNote is an imaboot.* kernel parameter the agent did not apply,
// and why.
type CmdlineNote struct {
	Param string
	Why   string
}

func (n CmdlineNote) String() string { return n.Param + " ignored: " + n.Why }

// ApplyCmdline applies every override the kernel command line makes: the
// allow-listed imaboot.* parameters (cmdlineKeys, unless CMDLINE_OVERRIDE=no)
// and imaboot.break_glass (unless BREAK_GLASS=no, which also refuses
// imaboot.mode=permissive: then nothing on the command line weakens
// enforcement), then the kernel's own init= and rootdelay=, which win over
// INIT and ROOT_TIMEOUT (and imaboot.root_timeout). Unknown or refused
// imaboot.* parameters are returned so the agent can warn about them.
func (c *Config) ApplyCmdline(cl *Cmdline) (ignored []CmdlineNote, err error) {
	for _, p := range cl.Params {
		if !strings.HasPrefix(p.Key, "imaboot.") {
			continue
		}
		if !c.CmdlineOverride {
			ignored = append(ignored, CmdlineNote{p.Key, "CMDLINE_OVERRIDE=no in the configuration"})
			continue
		}
		if p.Key == breakGlassParam {
			on := true // a bare imaboot.break_glass asks for it
			if p.HasValue {
				if on, err = parseBool(p.Value); err != nil {
					return ignored, fmt.Errorf("kernel command line %s=%s: %w", p.Key, p.Value, err)
				}
			}
			if on && !c.BreakGlassAllowed {
				ignored = append(ignored, CmdlineNote{p.Key, "BREAK_GLASS=no in the configuration: this machine allows no break-glass boot"})
				continue
			}
			c.BreakGlass = on
			continue
		}
		key, ok := cmdlineKeys[p.Key]
		if !ok {
			ignored = append(ignored, CmdlineNote{p.Key, "not an allowed override"})
			continue
		}
		if key == "MODE" && Mode(p.Value) == Permissive && !c.BreakGlassAllowed {
			ignored = append(ignored, CmdlineNote{p.Key, "BREAK_GLASS=no in the configuration: the kernel command line cannot weaken enforcement"})
			continue
		}
		if err := configKeys[key].set(c, p.Value); err != nil {
			return ignored, fmt.Errorf("kernel command line %s=%s: %w", p.Key, p.Value, err)
		}
	}
	if c.BreakGlass {
		// Nothing the agent does stops this boot; what it loads is
		// decided in breakglass.go.
		c.Mode = Permissive
	}
	root := cl.Root()
	if root.Init != "" {
		c.Init = root.Init
	}
	if root.Delay != "" {
		d, err := parseSeconds(root.Delay)
		if err != nil {
			return ignored, fmt.Errorf("rootdelay=: %w", err)
		}
		c.RootTimeout = d
	}
	return ignored, nil
}

// loadConfig is the config step: the kernel command line (cmdline.go),
// dracut's sysconfig files and imaboot.conf (LoadConfig), then the command
// line's overrides (ApplyCmdline). With the integrity files in the
// initramfs (or the root already mounted: hook mode) it starts reading
// them into in, to overlap the wait for the root device.
func (a *Agent) loadConfig(in *inputs) (string, error) {
	data, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return "", fmt.Errorf("read /proc/cmdline: %w", err)
	}
	cl, err := ParseCmdline(string(data))
	if err != nil {
		return "", err
	}
	a.Cmdline = cl
	cfg, err := LoadConfig(ConfigPath, DracutConfigPaths)
	if err != nil {
		return "", fmt.Errorf("configuration %w", err)
	}
	ignored, err := cfg.ApplyCmdline(cl)
	if err != nil {
		return "", err
	}
	for _, n := range ignored {
		a.Log.Warnf("kernel command line: %s", n)
	}
	a.Config = cfg
	a.Status.Mode, a.Status.BreakGlass = cfg.Mode, cfg.BreakGlass
	a.Log.Debug = cfg.Debug
	if !cfg.KeysFromRoot || a.hook {
		a.startInputs(in)
	}
	return fmt.Sprintf("mode %s", cfg.Mode), nil
}

func setAbs(dst *string, key, v string) error {
	if !strings.HasPrefix(v, "/") {
		return fmt.Errorf("%s must be an absolute path, not %q", key, v)
	}
	*dst = v
	return nil
}

func knownKeys() []string {
	keys := make([]string, 0, len(configKeys))
	for k := range configKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func unquote(v string) (string, error) {
	if len(v) >= 1 && (v[0] == '"' || v[0] == '\'') {
		if len(v) < 2 || v[len(v)-1] != v[0] {
			return "", fmt.Errorf("unterminated quote in %s", v)
		}
		return v[1 : len(v)-1], nil
	}
	return v, nil
}

func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "y", "yes", "true", "on":
		return true, nil
	case "0", "n", "no", "false", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", v)
}

func parseSeconds(v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a number of seconds", v)
	}
	return time.Duration(f * float64(time.Second)), nil
}
