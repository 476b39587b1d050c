package securityfs_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imaboot/imaboot/securityfs"
)

// A boot step enabling EVM after the EVM key and certificates loaded.
func ExampleEVMValue() {
	extra, _ := securityfs.ParseEVMBits("0x80000000") // dracut's EVM_ACTIVATION_BITS
	v, err := securityfs.EVMValue(securityfs.EVMRequest{HMACKey: true, X509: true, ExtraBits: extra})
	fmt.Printf("%#x %s %v\n", v, securityfs.EVMBitNames(v), err)

	_, err = securityfs.EVMValue(securityfs.EVMRequest{})
	fmt.Println(err)
	// Output:
	// 0x80000003 HMAC|X509|setup-complete <nil>
	// EVM: neither evm-key nor an EVM certificate is loaded: refusing to enable EVM without a key
}

// Loading a policy into a directory laid out like securityfs. On a real
// kernel FS{} is all a boot step needs.
func ExampleLoadPolicy() {
	root, _ := os.MkdirTemp("", "securityfs")
	defer os.RemoveAll(root)
	os.MkdirAll(filepath.Join(root, "ima"), 0o755)
	os.WriteFile(filepath.Join(root, "ima", "policy"), nil, 0o600)
	fs := securityfs.FS{
		Root:          root,
		StateDir:      filepath.Join(root, "run"),
		Cmdline:       filepath.Join(root, "cmdline"),
		PrintkBurst:   "-",
		OpenKernelLog: func() (securityfs.KernelLog, error) { return nil, os.ErrNotExist },
	}
	res, err := securityfs.LoadPolicy(fs, []string{
		"measure func=BPRM_CHECK",
		"appraise func=BPRM_CHECK appraise_type=imasig",
	}, securityfs.PolicyOptions{Path: "/etc/imaboot/ima-policy"})
	fmt.Println(res.Summary(), err)

	_, err = securityfs.LoadPolicy(fs, []string{"measure func=BPRM_CHECK"}, securityfs.PolicyOptions{})
	fmt.Println(err != nil)
	// Output:
	// IMA policy loaded, 2 rules; confirmed: the policy reads back <nil>
	// true
}
