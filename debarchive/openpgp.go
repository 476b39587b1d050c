package debarchive

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// The archive's signatures are made and checked in process with
// github.com/ProtonMail/go-crypto (the maintained fork of x/crypto/openpgp):
// no gpg-agent, no keyring directory, no state shared between runs, and the
// passphrase is held only as long as the key takes to decrypt. apt checks
// them with gpgv (sqv in newer releases); the tests check ours with gpgv.

// sigConfig makes SHA-512 signatures (apt refuses SHA-1 and MD5) and
// refuses the weak hashes when verifying.
var sigConfig = &packet.Config{DefaultHash: crypto.SHA512}

// Signer signs Release files with one OpenPGP secret key.
type Signer struct {
	entity *openpgp.Entity
}

// LoadSigner reads an OpenPGP secret key (armored or binary, as `gpg
// --export-secret-keys` writes it) holding exactly one key, and decrypts
// it with the passphrase in passphraseFile ("" for a key without one; the
// first line is the passphrase). The passphrase is zeroed after use.
func LoadSigner(keyFile, passphraseFile string) (*Signer, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	es, err := readKeyring(b)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", keyFile, err)
	}
	if len(es) != 1 {
		return nil, fmt.Errorf("signing key %s: %d keys, want one (export only the mirror's key)", keyFile, len(es))
	}
	e := es[0]
	if e.PrivateKey == nil {
		return nil, fmt.Errorf("signing key %s: a public key, not a secret key (gpg --export-secret-keys)", keyFile)
	}
	k, ok := e.SigningKey(time.Now())
	if !ok {
		return nil, fmt.Errorf("signing key %s (%X): no valid signing key (expired, revoked, or no signing capability)", keyFile, e.PrimaryKey.Fingerprint)
	}
	if k.PrivateKey.Encrypted {
		if passphraseFile == "" {
			return nil, fmt.Errorf("signing key %s is protected by a passphrase: give SigningkeyPasswordFile", keyFile)
		}
		pass, err := os.ReadFile(passphraseFile)
		if err != nil {
			return nil, fmt.Errorf("signing key passphrase: %w", err)
		}
		line := pass
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		err = e.DecryptPrivateKeys(line)
		clear(pass)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: decrypt with the passphrase of %s: %v", keyFile, passphraseFile, err)
		}
	}
	return &Signer{entity: e}, nil
}

func readKeyring(b []byte) (openpgp.EntityList, error) {
	if bytes.Contains(b, []byte("-----BEGIN PGP")) {
		return openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	}
	return openpgp.ReadKeyRing(bytes.NewReader(b))
}

// Fingerprint is the primary key's fingerprint, upper-case hex.
func (s *Signer) Fingerprint() string { return fmt.Sprintf("%X", s.entity.PrimaryKey.Fingerprint) }

// PublicKey is the public key as a binary keyring, the form apt's
// signed-by= and gpgv --keyring take.
func (s *Signer) PublicKey() ([]byte, error) {
	var b bytes.Buffer
	if err := s.entity.Serialize(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Sign returns InRelease (release clear-signed) and Release.gpg (an
// armored detached signature of release).
func (s *Signer) Sign(release []byte) (inRelease, releaseGPG []byte, err error) {
	k, ok := s.entity.SigningKey(time.Now())
	if !ok {
		return nil, nil, fmt.Errorf("OpenPGP key %s has no valid signing key", s.Fingerprint())
	}
	var in bytes.Buffer
	w, err := clearsign.Encode(&in, k.PrivateKey, sigConfig)
	if err != nil {
		return nil, nil, fmt.Errorf("clear-sign Release: %w", err)
	}
	// The line break before the armor is not part of the signed text: a
	// Release ending in a newline is written without it, as gpg --clearsign
	// does, so that gpgv gives back exactly release.
	if _, err := w.Write(bytes.TrimSuffix(release, []byte("\n"))); err != nil {
		return nil, nil, err
	}
	if err := w.Close(); err != nil {
		return nil, nil, fmt.Errorf("clear-sign Release: %w", err)
	}
	// clearsign ends the armor without a newline; gpg ends it with one.
	if !bytes.HasSuffix(in.Bytes(), []byte("\n")) {
		in.WriteByte('\n')
	}
	var det bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&det, s.entity, bytes.NewReader(release), sigConfig); err != nil {
		return nil, nil, fmt.Errorf("sign Release.gpg: %w", err)
	}
	det.WriteByte('\n')
	return in.Bytes(), det.Bytes(), nil
}

// Keyring holds the keys that upstream's Release must be signed by.
type Keyring struct {
	list  openpgp.EntityList
	files []string
}

// LoadKeyring reads OpenPGP public keyrings (binary, as in
// /usr/share/keyrings, or armored).
func LoadKeyring(files ...string) (*Keyring, error) {
	k := &Keyring{files: files}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		es, err := readKeyring(b)
		if err != nil {
			return nil, fmt.Errorf("keyring %s: %w", f, err)
		}
		if len(es) == 0 {
			return nil, fmt.Errorf("keyring %s: no keys", f)
		}
		k.list = append(k.list, es...)
	}
	return k, nil
}

// ErrUnsigned says an InRelease file is not a clear-signed message.
var ErrUnsigned = errors.New("not an OpenPGP clear-signed message")

// VerifyInRelease checks the clear-signed InRelease and returns the signed
// text (what apt parses) and the signer's fingerprint. Text outside the
// signed part is refused, as apt refuses it.
func (k *Keyring) VerifyInRelease(data []byte) ([]byte, string, error) {
	const begin = "-----BEGIN PGP SIGNED MESSAGE-----"
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(begin)) {
		return nil, "", ErrUnsigned
	}
	b, rest := clearsign.Decode(data)
	if b == nil {
		return nil, "", ErrUnsigned
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, "", errors.New("text after the signature")
	}
	signer, err := b.VerifySignature(k.list, nil)
	if err != nil {
		return nil, "", k.explain(err)
	}
	text := b.Plaintext
	if len(text) > 0 && !bytes.HasSuffix(text, []byte("\n")) {
		text = append(text, '\n') // as gpgv --output gives it
	}
	return text, fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint), nil
}

// VerifyDetached checks Release against the armored (or binary) detached
// signature Release.gpg.
func (k *Keyring) VerifyDetached(release, sig []byte) (string, error) {
	var sr io.Reader = bytes.NewReader(sig)
	if bytes.Contains(sig, []byte("-----BEGIN PGP SIGNATURE-----")) {
		blk, err := armor.Decode(bytes.NewReader(sig))
		if err != nil {
			return "", fmt.Errorf("armor: %w", err)
		}
		sr = blk.Body
	}
	signer, err := openpgp.CheckDetachedSignature(k.list, bytes.NewReader(release), sr, nil)
	if err != nil {
		return "", k.explain(err)
	}
	return fmt.Sprintf("%X", signer.PrimaryKey.Fingerprint), nil
}

func (k *Keyring) explain(err error) error {
	if errors.Is(err, pgperrors.ErrUnknownIssuer) {
		return fmt.Errorf("signed by no key of %s", strings.Join(k.files, ", "))
	}
	return fmt.Errorf("bad signature: %w", err)
}

// UnverifiedText is the text of a clear-signed InRelease without checking
// its signature (for an upstream the operator chose not to verify).
func UnverifiedText(data []byte) ([]byte, error) {
	b, _ := clearsign.Decode(data)
	if b == nil {
		return nil, ErrUnsigned
	}
	text := b.Plaintext
	if len(text) > 0 && !bytes.HasSuffix(text, []byte("\n")) {
		text = append(text, '\n')
	}
	return text, nil
}
