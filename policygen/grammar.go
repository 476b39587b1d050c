package policygen

// Where the grammar changed between the releases whose sources were read
// (the releases table in version.go). A change seen between two read
// releases is placed at the release that merged the commit named here;
// "verified" marks a bound taken from the sources read, because the commit
// could not be dated. These dates, and the since fields of the tables
// below, are the only per-release facts: grammarOf resolves them for one
// release, and nothing else compares releases.
var (
	// "ima: Introduce MMAP_CHECK_REQPROT hook" (2023-01-31, merged for 6.3);
	// verified: in 6.6.57's ima_parse_rule, absent in 6.1.
	sinceReqprot = KernelVersion{6, 3, 0}
	// "integrity: Always reference the blacklist keyring with appraisal"
	// (2023-08-01, 6.6): appraise_flag= becomes a no-op, every signature
	// appraisal checks the blacklist. Verified in 6.6.57: Opt_appraise_flag
	// only logs, appraise_type= sets IMA_CHECK_BLACKLIST, and the file
	// hooks of ima_validate_rule allow it.
	sinceBlacklistAlways = Kernel66
	// sha3-256/384/512 in hash_algo_name (crypto/hash_info.c): verified in
	// 6.12, absent in 6.1 and in 6.6.57.
	sinceSHA3 = Kernel612
	// "ima: ignore suffixed policy rule comments" (2025-01-03, 6.14).
	sinceInlineComment = KernelVersion{6, 14, 0}
	// The built-in tcb rule for tmpfs excludes only FILE_CHECK from 6.14
	// (the same release as inline comments, a separate change);
	// 6.6.57's dont_measure_rules still exclude all of tmpfs.
	sinceTmpfsFileCheckOnly = KernelVersion{6, 14, 0}
	// dont_audit, fs_subtype=, sigv3 for regular files (no digest_type
	// ordering rule): verified in 7.2, absent in 6.12 (and in 6.6.57).
	sinceDontAudit = Kernel72
	sinceFsSubtype = Kernel72
	sinceSigv3Any  = Kernel72
	// The kernel's built-in tcb and appraise_tcb rules exclude configfs:
	// verified in 7.3, absent in 7.2.
	sinceConfigfsExcluded = Kernel73
)

// A trait is a behaviour of the kernel's parser, or of its built-in
// policies, that holds from one release on.
type trait uint

const (
	// appraise_flag= is accepted and ignored; appraise_type= makes every
	// signature appraisal consult the blacklist, for file hooks too.
	traitBlacklistAlways trait = 1 << iota
	// appraise_type=sigv3 without digest_type=verity (signatures of
	// regular files), and digest_type= after appraise_type=.
	traitSigv3Any
	// A word starting with '#' ends the rule: the rest is a comment.
	traitInlineComment
	// The built-in tcb rule for tmpfs excludes only FILE_CHECK.
	traitTmpfsFileCheckOnly
	// The built-in tcb and appraise_tcb policies exclude configfs.
	traitConfigfsExcluded
)

var traitSince = map[trait]KernelVersion{
	traitBlacklistAlways:    sinceBlacklistAlways,
	traitSigv3Any:           sinceSigv3Any,
	traitInlineComment:      sinceInlineComment,
	traitTmpfsFileCheckOnly: sinceTmpfsFileCheckOnly,
	traitConfigfsExcluded:   sinceConfigfsExcluded,
}

// pageSize bounds one write to the policy file: ima_write_policy cuts a
// write at PAGE_SIZE-1 bytes (4 KiB pages on the machines targeted).
const pageSize = 4096

// MaxRuleLength is the longest rule one write carries. A rule of exactly
// PAGE_SIZE-1 bytes loses only its newline to the cut and is still parsed
// whole (write() then reports every byte taken); a longer one is cut, the
// kernel parses the cut rule, and write() reports fewer bytes than sent.
const MaxRuleLength = pageSize - 1

type wordKind int

const (
	kindAction wordKind = iota
	kindCondition
	kindOption
	kindLSM
)

type word struct {
	ops   string // "" for bare words, else the operators the kernel's table has
	kind  wordKind
	since KernelVersion
}

// words is the kernel's policy_tokens table, keyed by the word before the
// operator.
var words = map[string]word{
	"measure":         {kind: kindAction},
	"dont_measure":    {kind: kindAction},
	"appraise":        {kind: kindAction},
	"dont_appraise":   {kind: kindAction},
	"audit":           {kind: kindAction},
	"dont_audit":      {kind: kindAction, since: sinceDontAudit},
	"hash":            {kind: kindAction},
	"dont_hash":       {kind: kindAction},
	"permit_directio": {kind: kindOption},
	"obj_user":        {ops: "=", kind: kindLSM},
	"obj_role":        {ops: "=", kind: kindLSM},
	"obj_type":        {ops: "=", kind: kindLSM},
	"subj_user":       {ops: "=", kind: kindLSM},
	"subj_role":       {ops: "=", kind: kindLSM},
	"subj_type":       {ops: "=", kind: kindLSM},
	"func":            {ops: "=", kind: kindCondition},
	"mask":            {ops: "=", kind: kindCondition},
	"fsmagic":         {ops: "=", kind: kindCondition},
	"fsname":          {ops: "=", kind: kindCondition},
	"fs_subtype":      {ops: "=", kind: kindCondition, since: sinceFsSubtype},
	"fsuuid":          {ops: "=", kind: kindCondition},
	"uid":             {ops: "=<>", kind: kindCondition},
	"euid":            {ops: "=<>", kind: kindCondition},
	"gid":             {ops: "=<>", kind: kindCondition},
	"egid":            {ops: "=<>", kind: kindCondition},
	"fowner":          {ops: "=<>", kind: kindCondition},
	"fgroup":          {ops: "=<>", kind: kindCondition},
	"digest_type":     {ops: "=", kind: kindOption},
	"appraise_type":   {ops: "=", kind: kindOption},
	"appraise_flag":   {ops: "=", kind: kindOption},
	"appraise_algos":  {ops: "=", kind: kindOption},
	"pcr":             {ops: "=", kind: kindOption},
	"template":        {ops: "=", kind: kindOption},
	"keyrings":        {ops: "=", kind: kindCondition},
	"label":           {ops: "=", kind: kindCondition},
}

// actionClass pairs each action with its opposite: the first matching rule
// of a class decides, later rules of the class are not consulted.
var actionClass = map[string]string{
	"measure": "measure", "dont_measure": "measure",
	"appraise": "appraise", "dont_appraise": "appraise",
	"audit": "audit", "dont_audit": "audit",
	"hash": "hash", "dont_hash": "hash",
}

type hook struct {
	canonical string // the hook an alias stands for
	since     KernelVersion
	config    string // CONFIG_ symbol the kernel needs to know the name
}

// funcs are the func= values ima_parse_rule knows.
var funcs = map[string]hook{
	"FILE_CHECK":            {canonical: "FILE_CHECK"},
	"PATH_CHECK":            {canonical: "FILE_CHECK"}, // alias kept for old policies
	"MODULE_CHECK":          {canonical: "MODULE_CHECK"},
	"FIRMWARE_CHECK":        {canonical: "FIRMWARE_CHECK"},
	"FILE_MMAP":             {canonical: "MMAP_CHECK"}, // alias
	"MMAP_CHECK":            {canonical: "MMAP_CHECK"},
	"MMAP_CHECK_REQPROT":    {canonical: "MMAP_CHECK_REQPROT", since: sinceReqprot},
	"BPRM_CHECK":            {canonical: "BPRM_CHECK"},
	"CREDS_CHECK":           {canonical: "CREDS_CHECK"},
	"KEXEC_KERNEL_CHECK":    {canonical: "KEXEC_KERNEL_CHECK"},
	"KEXEC_INITRAMFS_CHECK": {canonical: "KEXEC_INITRAMFS_CHECK"},
	"POLICY_CHECK":          {canonical: "POLICY_CHECK"},
	"KEXEC_CMDLINE":         {canonical: "KEXEC_CMDLINE"},
	"KEY_CHECK":             {canonical: "KEY_CHECK", config: "IMA_MEASURE_ASYMMETRIC_KEYS"},
	"CRITICAL_DATA":         {canonical: "CRITICAL_DATA"},
	"SETXATTR_CHECK":        {canonical: "SETXATTR_CHECK"},
}

// fileHooks are the hooks of ima_validate_rule's first case ("" is a
// rule without func=); moduleHooks those of its second.
var (
	fileHooks         = []string{"", "FILE_CHECK", "MMAP_CHECK", "MMAP_CHECK_REQPROT", "BPRM_CHECK", "CREDS_CHECK", "FIRMWARE_CHECK", "POLICY_CHECK"}
	moduleHooks       = []string{"MODULE_CHECK", "KEXEC_KERNEL_CHECK", "KEXEC_INITRAMFS_CHECK"}
	fileOrModuleHooks = append(append([]string(nil), fileHooks...), moduleHooks...)
)

// fileFlags are the conditions and options every file and module hook
// takes.
const fileFlags = fFunc | fMask | fFsmagic | fUID | fFowner | fFsuuid | fInMask | fEUID | fPCR | fFsname | fGID | fEGID | fFgroup | fDigsig | fDirectio | fAlgos

// hookFlags is ima_validate_rule's switch on the hook: the flags a rule
// may set with each hook, and the releases that widened the sets. A hook
// not listed allows nothing.
var hookFlags = []struct {
	since KernelVersion
	hooks []string
	flags flag
}{
	{hooks: fileHooks, flags: fileFlags | fVerity},
	{hooks: moduleHooks, flags: fileFlags | fModsig | fBlacklist},
	{hooks: []string{"KEXEC_CMDLINE"}, flags: fFunc | fFsmagic | fUID | fFowner | fFsuuid | fEUID | fPCR | fFsname | fGID | fEGID | fFgroup},
	{hooks: []string{"KEY_CHECK"}, flags: fFunc | fUID | fGID | fPCR | fKeyrings},
	{hooks: []string{"CRITICAL_DATA"}, flags: fFunc | fUID | fGID | fPCR | fLabel},
	{hooks: []string{"SETXATTR_CHECK"}, flags: fFunc | fAlgos},
	{since: sinceBlacklistAlways, hooks: fileHooks, flags: fBlacklist},
	{since: sinceFsSubtype, hooks: append([]string{"KEXEC_CMDLINE"}, fileOrModuleHooks...), flags: fFsSubtype},
	{since: sinceSigv3Any, hooks: fileOrModuleHooks, flags: fSigv3},
}

// hookRules are the rest of ima_validate_rule's switch on the hook, the
// same in every release read: the actions a hook allows (none listed: all),
// a flag it needs, whether it refuses LSM conditions, and a hint for the
// flags it takes.
var hookRules = map[string]struct {
	actions   []string
	needs     flag
	needsWord string
	noLSM     bool
	hint      string
}{
	"KEXEC_CMDLINE":  {actions: []string{"measure", "dont_measure"}, hint: " (it takes no mask= and no appraisal options)"},
	"KEY_CHECK":      {actions: []string{"measure", "dont_measure"}, noLSM: true, hint: " (it takes uid=, gid=, pcr= and keyrings=)"},
	"CRITICAL_DATA":  {actions: []string{"measure", "dont_measure"}, noLSM: true, hint: " (it takes uid=, gid=, pcr= and label=)"},
	"SETXATTR_CHECK": {actions: []string{"appraise"}, needs: fAlgos, needsWord: "appraise_algos=", hint: " (it takes only appraise_algos=)"},
}

// FuncNames lists the func= values in a stable order (aliases last).
var FuncNames = []string{
	"FILE_CHECK", "MMAP_CHECK", "MMAP_CHECK_REQPROT", "BPRM_CHECK", "CREDS_CHECK",
	"MODULE_CHECK", "FIRMWARE_CHECK", "KEXEC_KERNEL_CHECK", "KEXEC_INITRAMFS_CHECK",
	"POLICY_CHECK", "KEXEC_CMDLINE", "KEY_CHECK", "CRITICAL_DATA", "SETXATTR_CHECK",
	"PATH_CHECK", "FILE_MMAP",
}

// Actions lists the actions in a stable order.
var Actions = []string{"measure", "dont_measure", "appraise", "dont_appraise", "audit", "dont_audit", "hash", "dont_hash"}

var masks = map[string]bool{"MAY_EXEC": true, "MAY_WRITE": true, "MAY_READ": true, "MAY_APPEND": true}

// templates are the built-in template descriptors; template= matches a
// name or a format.
var templates = map[string]string{
	"ima":        "d|n",
	"ima-ng":     "d-ng|n-ng",
	"ima-sig":    "d-ng|n-ng|sig",
	"ima-ngv2":   "d-ngv2|n-ng",
	"ima-sigv2":  "d-ngv2|n-ng|sig",
	"ima-buf":    "d-ng|n-ng|buf",
	"ima-modsig": "d-ng|n-ng|sig|d-modsig|modsig",
	"evm-sig":    "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode",
}

type hashAlgo struct {
	since KernelVersion
	// configs are the CONFIG_ symbols of the generic and arch
	// implementations; none means the name is known but no implementation
	// exists (removed from the kernel in 5.11), so crypto_has_alg fails.
	configs []string
}

// hashAlgos is hash_algo_name: the names appraise_algos= accepts.
var hashAlgos = map[string]hashAlgo{
	"md4":         {configs: []string{"CRYPTO_MD4"}},
	"md5":         {configs: []string{"CRYPTO_MD5"}},
	"sha1":        {configs: []string{"CRYPTO_SHA1", "CRYPTO_SHA1_SSSE3"}},
	"rmd160":      {configs: []string{"CRYPTO_RMD160"}},
	"sha256":      {configs: []string{"CRYPTO_SHA256", "CRYPTO_SHA256_SSSE3"}},
	"sha384":      {configs: []string{"CRYPTO_SHA512", "CRYPTO_SHA512_SSSE3"}},
	"sha512":      {configs: []string{"CRYPTO_SHA512", "CRYPTO_SHA512_SSSE3"}},
	"sha224":      {configs: []string{"CRYPTO_SHA256", "CRYPTO_SHA256_SSSE3"}},
	"rmd128":      {},
	"rmd256":      {},
	"rmd320":      {},
	"wp256":       {configs: []string{"CRYPTO_WP512"}},
	"wp384":       {configs: []string{"CRYPTO_WP512"}},
	"wp512":       {configs: []string{"CRYPTO_WP512"}},
	"tgr128":      {},
	"tgr160":      {},
	"tgr192":      {},
	"sm3":         {configs: []string{"CRYPTO_SM3_GENERIC", "CRYPTO_SM3_AVX_X86_64"}},
	"streebog256": {configs: []string{"CRYPTO_STREEBOG"}},
	"streebog512": {configs: []string{"CRYPTO_STREEBOG"}},
	"sha3-256":    {since: sinceSHA3, configs: []string{"CRYPTO_SHA3"}},
	"sha3-384":    {since: sinceSHA3, configs: []string{"CRYPTO_SHA3"}},
	"sha3-512":    {since: sinceSHA3, configs: []string{"CRYPTO_SHA3"}},
}

// HashNames lists appraise_algos= names in the kernel's order.
var HashNames = []string{"md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224",
	"rmd128", "rmd256", "rmd320", "wp256", "wp384", "wp512", "tgr128", "tgr160", "tgr192",
	"sm3", "streebog256", "streebog512", "sha3-256", "sha3-384", "sha3-512"}

// assumedHashes are available on any kernel with IMA: IMA selects SHA1 and
// its default hash, which is sha256 on every distribution kernel seen.
var assumedHashes = map[string]bool{"sha1": true, "sha256": true}

// LSMWords are the LSM conditions.
var LSMWords = []string{"obj_user", "obj_role", "obj_type", "subj_user", "subj_role", "subj_type"}
