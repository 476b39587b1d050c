#!/bin/sh
# imaboot pre-pivot hook (dracut shell init; sourced by /init): runs the
# agent on $NEWROOT before the switch. In enforce mode a failed step stops
# the boot with the agent's one-line reason (die); permissive goes on.

# shellcheck source=/dev/null
type die > /dev/null 2>&1 || . /lib/dracut-lib.sh

imaboot_run() {
    _log=/run/imaboot/hook.log
    mkdir -p /run/imaboot
    /usr/sbin/imaboot-init --hook --root "${NEWROOT:-/sysroot}" > "$_log" 2>&1
    _rc=$?
    _reason=
    while IFS= read -r _line; do
        echo "$_line"
        case $_line in
            "imaboot: error: "*) _reason=${_line#imaboot: error: } ;;
        esac
    done < "$_log"
    if [ "$_rc" -ne 0 ]; then
        die "imaboot: ${_reason:-imaboot-init --hook failed (exit $_rc)}"
    fi
    unset _log _rc _reason _line
}

imaboot_run
