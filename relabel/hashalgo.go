package relabel

import (
	"crypto"
	"fmt"
	"strings"

	// Register the hash implementations that crypto.Hash.New looks up.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha3"
	_ "crypto/sha512"
)

// HashAlgo is the kernel's hash algorithm id (enum hash_algo), as stored in labels.
type HashAlgo uint8

// Hash algorithm ids, from include/uapi/linux/hash_info.h.
const (
	AlgoMD4         HashAlgo = 0
	AlgoMD5         HashAlgo = 1
	AlgoSHA1        HashAlgo = 2
	AlgoRMD160      HashAlgo = 3
	AlgoSHA256      HashAlgo = 4
	AlgoSHA384      HashAlgo = 5
	AlgoSHA512      HashAlgo = 6
	AlgoSHA224      HashAlgo = 7
	AlgoSM3         HashAlgo = 17
	AlgoStreebog256 HashAlgo = 18
	AlgoStreebog512 HashAlgo = 19
	AlgoSHA3_256    HashAlgo = 20
	AlgoSHA3_384    HashAlgo = 21
	AlgoSHA3_512    HashAlgo = 22
)

type algoInfo struct {
	name string
	size int         // digest size in bytes
	hash crypto.Hash // 0 when Go cannot compute it
}

var algos = map[HashAlgo]algoInfo{
	AlgoMD4:         {"md4", 16, 0},
	AlgoMD5:         {"md5", 16, 0},
	AlgoSHA1:        {"sha1", 20, crypto.SHA1},
	AlgoRMD160:      {"rmd160", 20, 0},
	AlgoSHA256:      {"sha256", 32, crypto.SHA256},
	AlgoSHA384:      {"sha384", 48, crypto.SHA384},
	AlgoSHA512:      {"sha512", 64, crypto.SHA512},
	AlgoSHA224:      {"sha224", 28, crypto.SHA224},
	AlgoSM3:         {"sm3", 32, 0},
	AlgoStreebog256: {"streebog256", 32, 0},
	AlgoStreebog512: {"streebog512", 64, 0},
	AlgoSHA3_256:    {"sha3-256", 32, crypto.SHA3_256},
	AlgoSHA3_384:    {"sha3-384", 48, crypto.SHA3_384},
	AlgoSHA3_512:    {"sha3-512", 64, crypto.SHA3_512},
}

// String returns the kernel's name of the algorithm, or "algo#N" when unknown.
func (a HashAlgo) String() string {
	if i, ok := algos[a]; ok {
		return i.name
	}
	return fmt.Sprintf("algo#%d", uint8(a))
}

// Size returns the digest size in bytes, 0 when the algorithm is unknown.
func (a HashAlgo) Size() int { return algos[a].size }

// CryptoHash returns Go's hash for the algorithm, or an error naming it when this
// tool cannot compute it (the kernel may still know it).
func (a HashAlgo) CryptoHash() (crypto.Hash, error) {
	i, ok := algos[a]
	if !ok || i.hash == 0 || !i.hash.Available() {
		return 0, fmt.Errorf("hash algorithm %s: %w", a, ErrUnsupportedAlgo)
	}
	return i.hash, nil
}

// ParseHashAlgo maps a name such as "sha256" (also "SHA-256", "sha3_256") to its id.
// Only algorithms this tool can compute are accepted.
func ParseHashAlgo(name string) (HashAlgo, error) {
	n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
	n = strings.Replace(n, "sha-", "sha", 1)
	for id, i := range algos {
		if i.name == n {
			if _, err := id.CryptoHash(); err != nil {
				return 0, err
			}
			return id, nil
		}
	}
	return 0, fmt.Errorf("hash algorithm %q: %w (use sha1, sha224, sha256, sha384, sha512, sha3-256, sha3-384 or sha3-512)", name, ErrUnsupportedAlgo)
}
