package policygen

import "strings"

// OracleCorpus returns single rules, valid and invalid, for the VM test
// that writes each to a real kernel (JudgeRules) and compares the kernel's
// verdict with Predict. Most are generated: every action alone and with
// every func, every condition and option with each action, every func with
// each condition, bad value formats, word orders and duplicates; the rest
// are hand-written edge cases. The order is stable.
func OracleCorpus() []string {
	var out []string
	seen := map[string]bool{}
	add := func(r string) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	// Every action alone and with every func.
	for _, a := range Actions {
		add(a)
		for _, f := range FuncNames {
			add(a + " func=" + f)
		}
	}
	// Every condition and option, valid value, with each action.
	for _, a := range []string{"measure", "dont_measure", "appraise", "dont_appraise", "audit", "hash"} {
		for _, c := range sampleWords {
			add(a + " " + c)
		}
	}
	// Every func with each condition or option, under the action it needs.
	for _, f := range FuncNames {
		for _, c := range sampleWords {
			action := "measure"
			if isAppraisalOption(c) {
				action = "appraise"
			}
			add(action + " func=" + f + " " + c)
		}
	}
	// Bad values.
	for _, c := range badValues {
		action := "measure"
		if isAppraisalOption(c) {
			action = "appraise func=BPRM_CHECK"
		}
		add(action + " " + c)
	}
	// Duplicates: each condition twice, and the pairs that share a slot.
	for _, c := range sampleWords {
		action := "measure"
		if isAppraisalOption(c) {
			action = "appraise func=BPRM_CHECK"
		}
		if strings.HasPrefix(c, "func=") || c == "keyrings=.ima" || c == "label=selinux" {
			continue
		}
		add(action + " " + c + " " + c)
	}
	for _, r := range handCases {
		add(r)
	}
	return out
}

func isAppraisalOption(w string) bool {
	return strings.HasPrefix(w, "appraise_") || strings.HasPrefix(w, "digest_type") || w == "permit_directio"
}

// sampleWords are one valid spelling of every condition and option, with
// each comparison operator.
var sampleWords = []string{
	"func=BPRM_CHECK",
	"mask=MAY_EXEC", "mask=MAY_WRITE", "mask=MAY_READ", "mask=MAY_APPEND", "mask=^MAY_READ", "mask=^MAY_EXEC",
	"fsmagic=0x9fa0", "fsmagic=9fa0",
	"fsname=tmpfs", "fs_subtype=fuse",
	"fsuuid=3f7d2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6",
	"uid=0", "uid<1000", "uid>999", "euid=0", "euid<1000", "euid>999",
	"gid=0", "gid<1000", "gid>999", "egid=0", "egid<1000", "egid>999",
	"fowner=0", "fowner<1000", "fowner>999", "fgroup=0", "fgroup<1000", "fgroup>999",
	"keyrings=.ima", "label=selinux",
	"obj_user=system_u", "obj_role=object_r", "obj_type=bin_t",
	"subj_user=system_u", "subj_role=unconfined", "subj_type=init_t",
	"digest_type=verity",
	"appraise_type=imasig", "appraise_type=imasig|modsig", "appraise_type=sigv3",
	"appraise_flag=check_blacklist",
	"appraise_algos=sha256", "appraise_algos=sha1,sha256",
	"permit_directio",
	"pcr=11", "template=ima-sig",
}

var badValues = []string{
	"func=", "func=bprm_check", "func=POST_SETATTR", "func=NONE",
	"mask=", "mask=MAY_OPEN", "mask=^", "mask=^^MAY_READ", "mask=may_exec",
	"fsmagic=", "fsmagic=proc", "fsmagic=0x", "fsmagic=0xg", "fsmagic=-1", "fsmagic=+9fa0", "fsmagic=0X9FA0",
	"fsmagic=0xffffffffffffffff", "fsmagic=0x10000000000000000",
	"fsuuid=3f7d2a4e1b2c4d5e8f90a1b2c3d4e5f6", "fsuuid=3f7d2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f",
	"fsuuid=3f7d2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6ff", "fsuuid=3F7D2A4E-1B2C-4D5E-8F90-A1B2C3D4E5F6",
	"fsuuid=zf7d2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6",
	"uid=", "uid=-1", "uid=+5", "uid=0x10", "uid=010", "uid=4294967295", "uid=4294967294", "uid=18446744073709551616",
	"uid=1.5", "uid>=5", "uid=>5", "uid==0",
	"fowner=root", "fgroup=-0",
	"pcr=", "pcr=64", "pcr=63", "pcr=-1", "pcr=-0", "pcr=+10", "pcr=0x0a", "pcr=2147483648",
	"template=", "template=ima-foo", "template=d-ng|n-ng", "template=d|n", "template=IMA-SIG",
	"keyrings=", "keyrings=|.ima", "keyrings=.ima|", "keyrings=.ima||_ima",
	"label=", "label=a|",
	"appraise_type=", "appraise_type=IMASIG", "appraise_type=modsig", "appraise_type=imasig|sigv3",
	"appraise_flag=", "appraise_flag=foo", "appraise_flag=blacklist",
	"appraise_algos=", "appraise_algos=sha256,", "appraise_algos=,sha256", "appraise_algos=SHA256",
	"appraise_algos=md5", "appraise_algos=sha512", "appraise_algos=sha384", "appraise_algos=sha224",
	"appraise_algos=sha3-256", "appraise_algos=md4", "appraise_algos=rmd160", "appraise_algos=rmd128",
	"appraise_algos=wp512", "appraise_algos=tgr192", "appraise_algos=sm3", "appraise_algos=streebog256",
	"digest_type=", "digest_type=sha256",
	"permit_directio=1", "measure=1", "fsmagic<9fa0", "func>BPRM_CHECK", "pcr<5",
	"obj_type=",
}

var handCases = []string{
	// Orders.
	"template=ima-sig measure",
	"measure func=BPRM_CHECK template=ima-ng",
	"appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3",
	"appraise func=BPRM_CHECK appraise_type=sigv3 digest_type=verity",
	"appraise func=BPRM_CHECK appraise_type=imasig digest_type=verity",
	"appraise func=BPRM_CHECK digest_type=verity appraise_type=imasig",
	"appraise func=BPRM_CHECK digest_type=verity",
	"appraise func=BPRM_CHECK appraise_type=imasig appraise_type=imasig",
	"appraise func=BPRM_CHECK appraise_type=imasig appraise_type=sigv3",
	"appraise func=BPRM_CHECK digest_type=verity digest_type=verity appraise_type=sigv3",
	"measure func=BPRM_CHECK digest_type=verity template=ima-ngv2",
	"measure template=ima-sig func=BPRM_CHECK",
	"appraise_type=imasig appraise func=BPRM_CHECK",
	"func=BPRM_CHECK measure",
	// Slots shared by two words, and duplicates the kernel tolerates.
	"measure uid=0 euid=0", "measure gid=0 egid=0", "measure uid=0 fowner=0",
	"measure fsmagic=0 fsmagic=0x9fa0", "measure fsmagic=0x9fa0 fsmagic=0",
	"measure fsuuid=00000000-0000-0000-0000-000000000000 fsuuid=3f7d2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6",
	"measure pcr=10 pcr=11", "measure fsname=tmpfs fsname=proc",
	"measure func=BPRM_CHECK func=FILE_CHECK", "measure mask=MAY_READ mask=^MAY_READ",
	"measure func=KEY_CHECK keyrings=.ima keyrings=_ima",
	"measure func=CRITICAL_DATA label=a label=b",
	"appraise func=BPRM_CHECK permit_directio permit_directio",
	"measure subj_role=a subj_role=b",
	// Two actions.
	"measure dont_measure", "appraise appraise", "measure appraise func=BPRM_CHECK",
	// Hook rules.
	"measure func=KEY_CHECK keyrings=.ima|.evm|_ima|.builtin_trusted_keys template=ima-buf",
	"measure func=KEY_CHECK uid=0 gid=0 pcr=12",
	"measure func=KEY_CHECK fsmagic=0x9fa0",
	"measure func=CRITICAL_DATA label=selinux|kernel_info template=ima-buf",
	"measure func=CRITICAL_DATA mask=MAY_READ",
	"measure func=KEXEC_CMDLINE fowner=0 fsname=ext4",
	"appraise func=SETXATTR_CHECK appraise_algos=sha256,sha384,sha512",
	"appraise func=SETXATTR_CHECK appraise_algos=sha256 func=SETXATTR_CHECK",
	"appraise func=MODULE_CHECK appraise_type=imasig|modsig appraise_flag=check_blacklist",
	"appraise func=MODULE_CHECK appraise_flag=check_blacklist",
	"appraise func=FILE_CHECK appraise_flag=check_blacklist appraise_type=imasig",
	"appraise func=POLICY_CHECK appraise_type=imasig",
	"appraise fowner=0 fgroup=0 uid=0 gid=0 fsmagic=0xef53 fsname=ext4 mask=MAY_READ appraise_type=imasig permit_directio appraise_algos=sha256",
	// Whitespace, comments, line endings, paths.
	"  measure func=BPRM_CHECK", "measure\tfunc=BPRM_CHECK", "measure  func=BPRM_CHECK  ",
	"measure func=BPRM_CHECK # comment", "measure func=BPRM_CHECK #", "measure func=BPRM_CHECK#comment",
	"measure # comment func=BPRM_CHECK", "# only a comment", "",
	"measure func=BPRM_CHECK\r", "measure\r",
	// A path the guest surely lacks: an existing file would be read as a policy.
	"/nonexistent/imaboot-oracle-policy",
	"measure func=BPRM_CHECK\vmask=MAY_EXEC",
	"measure fsname=" + strings.Repeat("x", 4000),
	"measure fsname=" + strings.Repeat("x", MaxRuleLength-len("measure fsname=")),
	"measure fsname=" + strings.Repeat("x", MaxRuleLength-len("measure fsname=")+1),
}
