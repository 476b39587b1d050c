package tpm

import (
	"encoding/binary"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// retrier resends a command the TPM answered with a "try again" warning
// (TPM_RC_RETRY, TPM_RC_YIELDED, TPM_RC_TESTING): the TPM did not execute
// it, so sending the same bytes again is safe. Seen with swtpm on the
// first Unseal of an object under dictionary-attack protection.
type retrier struct {
	transport.TPM
}

const retryLimit = 20

func (r retrier) Send(cmd []byte) ([]byte, error) {
	for i := 0; ; i++ {
		rsp, err := r.TPM.Send(cmd)
		if err != nil || len(rsp) < tpmHeaderSize || i == retryLimit {
			return rsp, err
		}
		switch tpm2.TPMRC(binary.BigEndian.Uint32(rsp[6:10])) {
		case tpm2.TPMRCRetry, tpm2.TPMRCYielded, tpm2.TPMRCTesting:
			time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
		default:
			return rsp, err
		}
	}
}
