#!/bin/sh
# Install the Debian 12 packages ckvm needs to build, build its default guest, and run its tests.
# Idempotent: installs only what is missing. Usage: scripts/deps.sh [build|guest|test|bench]...
set -eu
want="build-essential"
for what in "${@:-build}"; do
	case "$what" in
	build) want="$want build-essential libhttp-parser-dev libjson-c-dev zlib1g-dev libbz2-dev liblzma-dev liblzo2-dev liblz4-dev libzstd-dev" ;;
	guest) want="$want linux-source-6.1 bc bison flex libelf-dev libssl-dev cpio busybox-static xz-utils" ;;
	test)  want="$want clang libclang-rt-14-dev libtsan2 util-linux e2fsprogs iproute2 acpica-tools netcat-openbsd procps curl python3 seabios"
	       want="$want qemu-system-common qemu-utils"	# qemu-storage-daemon (vhost-user back-end), qemu-img
	       want="$want dpdk-dev"	# dpdk-testpmd (vhost-user net back-end; Debian 12 ships it in dpdk-dev)
	       want="$want fdisk dosfstools mtools grub-pc-bin syslinux syslinux-common" ;;	# mkdisk.sh, t_biosdisk
	bench) want="$want qemu-system-x86 time" ;;
	*) echo "deps.sh: unknown group '$what'" >&2; exit 2 ;;
	esac
done
missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
