package tpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/google/go-tpm/tpm2"

	"github.com/imaboot/imaboot/internal/atomicfile"
)

// Blob file format, version 1 (all integers big-endian, like the TPM's):
//
//	offset  size  field
//	0       8     magic "IMABSEAL"
//	8       2     format version (1)
//	10      2     PCR bank, a TPM_ALG_ID (0x000B = sha256)
//	12      1     lock PCR index, 0xFF if none
//	13      1     n, the number of PCRs in the policy
//	14      …     n times: PCR index (1), value size (2), value sealed to
//	…       2+m   parent name: the transient primary's TPM2B_NAME
//	…       2+m   TPM2B_PUBLIC of the sealed object (holds the policy digest)
//	…       2+m   TPM2B_PRIVATE of the sealed object (encrypted by the TPM)
//	…       2+m   TPM2B_PUBLIC of the recovery object (size 0 if none)
//	…       2+m   TPM2B_PRIVATE of the recovery object (size 0 if none)
//	end-32  32    SHA-256 of every byte before it
//
// The PCR values are public; they let a failed unseal name the PCRs that
// changed and let `status` say what the blob expects. The TPM checks the
// policy digest inside the public area, not these copies.
const (
	blobMagic   = "IMABSEAL"
	blobVersion = 1
	noLockPCR   = 0xff
)

// Errors a caller may tell apart with errors.Is.
var (
	// ErrCorrupt: the blob is truncated, damaged or not a blob at all.
	ErrCorrupt = errors.New("corrupt sealed blob")
	// ErrVersion: the blob was written by a newer (or older) format.
	ErrVersion = errors.New("unsupported sealed blob format version")
	// ErrOtherTPM: the blob was sealed by another TPM, or before this
	// TPM's owner hierarchy was cleared.
	ErrOtherTPM = errors.New("blob sealed by another TPM (or before the TPM was cleared)")
	// ErrPolicyMismatch: the PCRs do not hold the values sealed to.
	ErrPolicyMismatch = errors.New("PCR policy mismatch")
)

// PCRValue is one PCR of the seal policy and the value sealed to.
type PCRValue struct {
	Index int
	Value []byte
}

// Blob is a sealed secret and the policy it is sealed to.
type Blob struct {
	// Source names the file the blob came from, for error messages; it is
	// not stored.
	Source string
	// Bank is the PCR bank the policy reads.
	Bank tpm2.TPMIAlgHash
	// LockPCR is the PCR extended after unsealing, -1 if none; it is
	// also one of PCRs.
	LockPCR int
	// PCRs are the policy's PCRs, ascending, with the values sealed to.
	PCRs []PCRValue
	// ParentName is the TPM name of the primary key the object was created
	// under; another TPM derives another name.
	ParentName []byte
	// Public and Private are the sealed object's TPM2B_PUBLIC and
	// TPM2B_PRIVATE contents (without their size fields).
	Public  []byte
	Private []byte
	// RecoveryPublic and RecoveryPrivate, if set, are a second sealed
	// object with the same secret whose only authorization is a
	// passphrase (see SealOptions.RecoveryPassphrase).
	RecoveryPublic  []byte
	RecoveryPrivate []byte
}

// HasRecovery says whether the blob carries a passphrase-sealed copy.
func (b *Blob) HasRecovery() bool { return len(b.RecoveryPublic) > 0 }

// PCRIndexes lists the policy's PCRs, ascending.
func (b *Blob) PCRIndexes() []int {
	out := make([]int, len(b.PCRs))
	for i, p := range b.PCRs {
		out[i] = p.Index
	}
	return out
}

func (b *Blob) name() string {
	if b.Source == "" {
		return "sealed blob"
	}
	return b.Source
}

// MarshalBinary encodes the blob in the file format above.
func (b *Blob) MarshalBinary() ([]byte, error) {
	var w bytes.Buffer
	w.WriteString(blobMagic)
	binary.Write(&w, binary.BigEndian, uint16(blobVersion))
	binary.Write(&w, binary.BigEndian, uint16(b.Bank))
	lock := byte(noLockPCR)
	if b.LockPCR >= 0 {
		lock = byte(b.LockPCR)
	}
	w.WriteByte(lock)
	if len(b.PCRs) == 0 || len(b.PCRs) > maxPCR+1 {
		return nil, fmt.Errorf("encode sealed blob: %d PCRs in the policy", len(b.PCRs))
	}
	w.WriteByte(byte(len(b.PCRs)))
	for _, p := range b.PCRs {
		w.WriteByte(byte(p.Index))
		put2B(&w, p.Value)
	}
	for _, f := range [][]byte{b.ParentName, b.Public, b.Private, b.RecoveryPublic, b.RecoveryPrivate} {
		if len(f) > 0xffff {
			return nil, fmt.Errorf("encode sealed blob: field of %d bytes", len(f))
		}
		put2B(&w, f)
	}
	sum := sha256.Sum256(w.Bytes())
	w.Write(sum[:])
	return w.Bytes(), nil
}

func put2B(w *bytes.Buffer, b []byte) {
	binary.Write(w, binary.BigEndian, uint16(len(b)))
	w.Write(b)
}

// ParseBlob decodes a blob; source names it in errors.
func ParseBlob(data []byte, source string) (*Blob, error) {
	b := &Blob{Source: source}
	corrupt := func(why string) error {
		return fmt.Errorf("%s: %w: %s", b.name(), ErrCorrupt, why)
	}
	if len(data) < len(blobMagic)+2 || string(data[:len(blobMagic)]) != blobMagic {
		return nil, corrupt("no IMABSEAL header")
	}
	if v := binary.BigEndian.Uint16(data[8:10]); v != blobVersion {
		return nil, fmt.Errorf("%s: %w %d (this build reads version %d)", b.name(), ErrVersion, v, blobVersion)
	}
	if len(data) < 14+sha256.Size {
		return nil, corrupt(fmt.Sprintf("truncated (%d bytes)", len(data)))
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(want[:], sum) {
		return nil, corrupt("checksum mismatch (truncated or modified)")
	}
	r := bytes.NewReader(body[10:])
	var bank uint16
	var lock, n byte
	binary.Read(r, binary.BigEndian, &bank)
	lock, _ = r.ReadByte()
	n, _ = r.ReadByte()
	b.Bank = tpm2.TPMIAlgHash(bank)
	b.LockPCR = -1
	if lock != noLockPCR {
		b.LockPCR = int(lock)
	}
	for i := 0; i < int(n); i++ {
		idx, err := r.ReadByte()
		if err != nil {
			return nil, corrupt("PCR list cut short")
		}
		v, err := get2B(r)
		if err != nil {
			return nil, corrupt("PCR value cut short")
		}
		b.PCRs = append(b.PCRs, PCRValue{Index: int(idx), Value: v})
	}
	var err error
	for _, f := range []*[]byte{&b.ParentName, &b.Public, &b.Private, &b.RecoveryPublic, &b.RecoveryPrivate} {
		if *f, err = get2B(r); err != nil {
			return nil, corrupt("object cut short")
		}
	}
	if r.Len() != 0 {
		return nil, corrupt(fmt.Sprintf("%d stray bytes", r.Len()))
	}
	idx := b.PCRIndexes()
	if err := checkPCRs(idx); err != nil || len(idx) == 0 || !slices.IsSorted(idx) {
		return nil, corrupt(fmt.Sprintf("bad PCR list %v", idx))
	}
	if b.LockPCR >= 0 && !slices.Contains(idx, b.LockPCR) {
		return nil, corrupt(fmt.Sprintf("lock PCR %d not in the policy %v", b.LockPCR, idx))
	}
	if len(b.Public) == 0 || len(b.Private) == 0 {
		return nil, corrupt("empty sealed object")
	}
	if (len(b.RecoveryPublic) == 0) != (len(b.RecoveryPrivate) == 0) {
		return nil, corrupt("half a recovery object")
	}
	return b, nil
}

func get2B(r *bytes.Reader) ([]byte, error) {
	var n uint16
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return nil, err
	}
	if int(n) > r.Len() {
		return nil, errors.New("short")
	}
	out := make([]byte, n)
	r.Read(out)
	return out, nil
}

// ReadBlob reads and decodes a blob file.
func ReadBlob(path string) (*Blob, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sealed blob: %w", err)
	}
	return ParseBlob(data, path)
}

// WriteBlob writes a blob file (mode 0600, replaced atomically so a
// crash never leaves half a blob) and records path as its Source.
func WriteBlob(path string, b *Blob) error {
	data, err := b.MarshalBinary()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return err
	}
	b.Source = path
	return nil
}
