#!/bin/sh
# chroot.sh: the Debian roots of the distro VM tests.
#
#   chroot.sh base DIR             debootstrap bookworm (minbase) into DIR and
#                                  install the Debian cloud kernel, systemd(-sysv),
#                                  keyutils and busybox (initramfs-tools comes
#                                  with the kernel)
#   chroot.sh run DIR CMD [ARG...] run CMD inside DIR with /proc, /sys and /dev
#                                  mounted in a private mount namespace: the
#                                  mounts vanish with the command, whatever
#                                  happens, so DIR can be removed safely
#   chroot.sh mirror               print the Debian mirror's URI
#
# The mirror is the machine's own, as its sources list names it (the same rule
# as scripts/fetch-kernels); no host name is written here.
set -eu

mirror() {
	uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
	[ -n "$uri" ] || uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
	[ -n "$uri" ] || { echo "chroot.sh: cannot find the Debian mirror in the sources list" >&2; exit 1; }
	echo "$uri"
}

run() {
	dir=$1
	shift
	# The private namespace: nothing mounted here reaches the host's tree.
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec unshare --mount --propagation private sh -euc '
		dir=$1; shift
		mount -t proc proc "$dir/proc"
		mount -t sysfs sysfs "$dir/sys"
		mount --bind /dev "$dir/dev"
		exec chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
	' chroot.sh "$dir" "$@"
}

base() {
	dir=$1
	debootstrap --variant=minbase bookworm "$dir" "$(mirror)"
	# No service starts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"
	chmod 755 "$dir/usr/sbin/policy-rc.d"
	(run "$dir" apt-get install -y -q --no-install-recommends \
		linux-image-cloud-amd64 initramfs-tools systemd systemd-sysv udev kmod keyutils busybox e2fsprogs)
	run "$dir" apt-get clean
}

cmd=${1:-}
[ $# -ge 2 ] || [ "$cmd" = mirror ] || { echo "usage: chroot.sh base DIR | run DIR CMD [ARG...] | mirror" >&2; exit 2; }
shift
case $cmd in
base) base "$1" ;;
run) run "$@" ;;
mirror) mirror ;;
*) echo "chroot.sh: unknown command $cmd" >&2; exit 2 ;;
esac
