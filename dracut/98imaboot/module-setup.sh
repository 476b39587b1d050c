#!/bin/bash
# dracut module "imaboot": the IMA/EVM integrity step of the initramfs.
#
# Installs the static agent (imaboot-init), /etc/imaboot/imaboot.conf and
# everything it names (certificates, IMA policy, sealed master key, EVM key
# blob) into the initramfs, so an offline edit of the root disk cannot swap
# them, and runs the agent in hook mode on $NEWROOT before the switch:
#   - shell init: a pre-pivot hook (imaboot-hook.sh);
#   - systemd in the initramfs: imaboot.service, ordered after sysroot.mount
#     and before initrd-cleanup.service (which starts the switch), with
#     KeyringMode=shared so the keyrings it creates reach the kernel's lookup.
# In enforce mode a failed step stops the boot (die / emergency.target).
#
# dracut's own "integrity" and "masterkey" modules load keys and a policy
# too; the kernel takes one policy per boot, so this module refuses to be
# installed beside them.
#
# dracut provides moddir, initdir, systemdsystemunitdir, SYSTEMCTL and the
# inst_* functions.
# shellcheck disable=SC2154

# imaboot_bin prints where the agent is on this machine.
imaboot_bin() {
    local p
    for p in "$(command -v imaboot-init 2> /dev/null)" /usr/sbin/imaboot-init /usr/local/sbin/imaboot-init /sbin/imaboot-init; do
        if [[ -n $p && -x $p ]]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# imaboot_conf KEY DEFAULT prints KEY's value in imaboot.conf (last one wins),
# or DEFAULT. Values are plain KEY=value, optionally quoted.
imaboot_conf() {
    local v
    v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "${dracutsysrootdir-}/etc/imaboot/imaboot.conf" 2> /dev/null | tail -n 1)
    v=${v%\"}
    v=${v#\"}
    v=${v%\'}
    v=${v#\'}
    if grep -qE "^[[:space:]]*$1[[:space:]]*=" "${dracutsysrootdir-}/etc/imaboot/imaboot.conf" 2> /dev/null; then
        echo "$v"
    else
        echo "$2"
    fi
}

# called by dracut
check() {
    # Without a configuration the defaults (enforce, one IMA certificate
    # required) would stop every boot: an unconfigured install adds nothing.
    # The package's conffile ships with every line commented: imaboot comes
    # in only once MODE is set.
    imaboot_bin > /dev/null || return 1
    [[ -f "${dracutsysrootdir-}/etc/imaboot/imaboot.conf" ]] || return 1
    grep -qE '^[[:space:]]*MODE[[:space:]]*=' "${dracutsysrootdir-}/etc/imaboot/imaboot.conf" || return 1
    return 0
}

# called by dracut
depends() {
    return 0
}

# called by dracut
installkernel() {
    local mods
    # TPM drivers (built in on Debian's kernels; modules elsewhere) and the
    # key types the EVM key needs, where they are modules.
    hostonly='' instmods -o tpm_tis tpm_crb tpm_tis_core tpm encrypted_keys trusted
    # MODULES= in imaboot.conf: the agent loads them with finit_module.
    mods=$(imaboot_conf MODULES "")
    if [[ -n $mods ]]; then
        # shellcheck disable=SC2086 # a list of names
        hostonly='' instmods ${mods//,/ }
    fi
    # Hash algorithms the policy or the labels name beyond the built-in ones
    # (sha512 and sha3 are modules on Debian 6.1).
    local policy
    policy=$(imaboot_conf IMA_POLICY /etc/imaboot/ima-policy)
    if [[ -n $policy ]] && grep -qE 'sha512|sha384' "${dracutsysrootdir-}$policy" 2> /dev/null; then
        hostonly='' instmods -o sha512 sha512_generic sha512-ssse3
    fi
    if [[ -n $policy ]] && grep -q 'sha3' "${dracutsysrootdir-}$policy" 2> /dev/null; then
        hostonly='' instmods -o sha3 sha3_generic
    fi
}

# imaboot_inst_path installs a file or every file of a directory, same path.
imaboot_inst_path() {
    local p=$1 f
    [[ -n $p ]] || return 0
    if [[ -d "${dracutsysrootdir-}$p" ]]; then
        inst_dir "$p"
        for f in "${dracutsysrootdir-}$p"/*; do
            [[ -f $f ]] && inst_simple "${f#"${dracutsysrootdir-}"}"
        done
    elif [[ -f "${dracutsysrootdir-}$p" ]]; then
        inst_simple "$p"
    fi
    return 0
}

# imaboot_check_policy BIN: the policy must suit the kernel this initramfs
# is for ($kernel): a kernel upgrade can change what the kernel accepts, and
# the agent would stop that kernel's boot on it. imaboot-policygen sits
# beside imaboot-init (bin/ beside sbin/).
imaboot_check_policy() {
    local policy pg kconf out
    policy=$(imaboot_conf IMA_POLICY /etc/imaboot/ima-policy)
    [[ -n $policy && -f "${dracutsysrootdir-}$policy" ]] || return 0
    pg=${1%/sbin/imaboot-init}/bin/imaboot-policygen
    [[ -x $pg ]] || pg=$(command -v imaboot-policygen 2> /dev/null)
    if [[ -z $pg ]]; then
        dwarn "imaboot: imaboot-policygen not found: $policy not checked for kernel $kernel"
        return 0
    fi
    kconf=${dracutsysrootdir-}/boot/config-$kernel
    [[ -f $kconf ]] || kconf=
    if ! out=$("$pg" check --kernel "$kernel" ${kconf:+--kernel-config "$kconf"} "${dracutsysrootdir-}$policy" 2>&1); then
        dfatal "$out"
        dfatal "imaboot: $policy does not suit kernel $kernel (imaboot-policygen check above): no initramfs built"
        return 1
    fi
    return 0
}

# called by dracut
install() {
    local m bin
    for m in integrity masterkey; do
        if dracut_module_included "$m"; then
            dfatal "imaboot: dracut's \"$m\" module is included too; imaboot loads the IMA/EVM keys and the policy itself and the kernel takes one policy per boot. Omit it (omit_dracutmodules+=\" integrity masterkey \" in /etc/dracut.conf.d/) or omit imaboot."
            exit 1
        fi
    done
    bin=$(imaboot_bin) || {
        dfatal "imaboot: imaboot-init not found"
        exit 1
    }
    imaboot_check_policy "$bin" || exit 1
    # Same path in every initramfs, wherever the host keeps it.
    inst_binary "$bin" /usr/sbin/imaboot-init
    inst_simple /etc/imaboot/imaboot.conf
    imaboot_inst_path /etc/imaboot/modules.load
    imaboot_inst_path "$(imaboot_conf IMA_POLICY /etc/imaboot/ima-policy)"
    imaboot_inst_path "$(imaboot_conf IMA_KEYS_DIR /etc/keys/ima)"
    imaboot_inst_path "$(imaboot_conf EVM_KEYS_DIR /etc/keys/evm)"
    imaboot_inst_path "$(imaboot_conf EVM_X509 "")"
    imaboot_inst_path "$(imaboot_conf MASTER_KEY /etc/keys/kmk.sealed)"
    imaboot_inst_path "$(imaboot_conf EVM_KEY /etc/keys/evm-key.blob)"
    # dracut's integrity settings, which the agent understands.
    for m in ima evm masterkey; do
        imaboot_inst_path "/etc/sysconfig/$m"
    done

    if dracut_module_included "systemd"; then
        inst_simple "$moddir/imaboot.service" "$systemdsystemunitdir/imaboot.service"
        $SYSTEMCTL -q --root "$initdir" enable imaboot.service
    else
        # After dracut's SELinux policy load (pre-pivot 50): LSM rules of
        # the IMA policy need it.
        inst_hook pre-pivot 61 "$moddir/imaboot-hook.sh"
    fi
}
