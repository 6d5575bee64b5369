#!/bin/bash
# Fetch Debian's stock cloud kernel (linux-image-cloud-amd64 -> its versioned
# linux-image-*-cloud-amd64) with apt-get download + dpkg -x and build a matching
# initramfs: ${CKVM_CACHE:-/var/cache/ckvm}/cloud/{vmlinuz,initramfs.cpio,
# kernel.release}. The initramfs holds busybox, guest/init, and the virtio /
# ext4 modules (decompressed, with a load.order file in dependency order).
set -euo pipefail

. "$(dirname "$0")/lib.sh"

CLOUD=$CACHE/cloud
# Module names (as in modules.dep, '-' == '_'); built-in ones are skipped.
WANTED=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	failover net_failover virtio_net virtio_blk crc32c_generic ext4)

ensure_pkgs busybox-static cpio xz-utils file apt

meta=linux-image-cloud-amd64
pkg=$(apt-cache depends "$meta" 2>/dev/null |
	awk '/Depends: linux-image-/ { print $2; exit }')
if [ -z "$pkg" ]; then
	log "apt does not know $meta; running apt-get update"
	apt-get update || die "apt-get update failed"
	pkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-/ { print $2; exit }')
fi
[ -n "$pkg" ] || die "cannot resolve the package behind $meta"
ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
log "$meta -> $pkg $ver"

stamp=$( { echo "$pkg $ver"; dpkg-query -W -f='${Version}' busybox-static;
	hash_files "$GUEST_DIR/init" "$GUEST_DIR/lib.sh" "$0" \
	"$GUEST_DIR"/tools/*.c; } | sha256sum | cut -d' ' -f1)
if [ -f "$CLOUD/.stamp" ] && [ "$(cat "$CLOUD/.stamp")" = "$stamp" ] &&
   [ -f "$CLOUD/vmlinuz" ] && [ -f "$CLOUD/initramfs.cpio" ]; then
	log "cloud kernel up to date ($(cat "$CLOUD/kernel.release"))"
	exit 0
fi

mkdir -p "$CLOUD/deb"
rm -f "$CLOUD/.stamp"
if ! ls "$CLOUD/deb/${pkg}_"*.deb >/dev/null 2>&1; then
	log "downloading $pkg"
	(cd "$CLOUD/deb" && apt-get download "$pkg") ||
		{ apt-get update && (cd "$CLOUD/deb" && apt-get download "$pkg"); } ||
		die "apt-get download $pkg failed"
fi
deb=$(ls -t "$CLOUD/deb/${pkg}_"*.deb | head -n 1)
log "unpacking $(basename "$deb")"
rm -rf "$CLOUD/root"
dpkg -x "$deb" "$CLOUD/root" || die "dpkg -x $deb failed"

release=$(ls "$CLOUD/root/lib/modules" | head -n 1)
[ -n "$release" ] || die "no /lib/modules/<release> in $deb"
moddir=$CLOUD/root/lib/modules/$release
[ -f "$CLOUD/root/boot/vmlinuz-$release" ] || die "no boot/vmlinuz-$release in $deb"
cp "$CLOUD/root/boot/vmlinuz-$release" "$CLOUD/vmlinuz"
echo "$release" > "$CLOUD/kernel.release"

# Debian's depmod output is missing from the .deb (postinst runs depmod), so
# generate modules.dep into a scratch copy if needed.
if [ ! -s "$moddir/modules.dep" ]; then
	ensure_pkgs kmod
	log "running depmod for $release"
	depmod -b "$CLOUD/root" "$release" || die "depmod failed"
fi

norm() { local b=${1##*/}; b=${b%%.ko*}; echo "${b//-/_}"; }

declare -A path_of=() deps_of=() done_mod=()
while IFS= read -r line; do
	mod=${line%%:*}
	n=$(norm "$mod")
	path_of[$n]=$mod
	deps_of[$n]=${line#*:}
done < "$moddir/modules.dep"

order=()
visit() {
	local n=$1 d
	[ -n "${done_mod[$n]:-}" ] && return 0
	done_mod[$n]=1
	for d in ${deps_of[$n]}; do
		visit "$(norm "$d")"
	done
	order+=("$n")
}

for n in "${WANTED[@]}"; do
	if [ -n "${path_of[$n]:-}" ]; then
		visit "$n"
	elif grep -q "/${n//_/[_-]}\.ko" "$moddir/modules.builtin" 2>/dev/null; then
		log "module $n is built in"
	else
		log "module $n not found (neither modular nor built in); skipped"
	fi
done

stage=$CLOUD/modules
rm -rf "$stage"
mkdir -p "$stage"
: > "$stage/load.order"
for n in "${order[@]}"; do
	src=$moddir/${path_of[$n]}
	case $src in
	*.ko.xz)  xz -dc "$src" > "$stage/$n.ko" ;;
	*.ko.zst) zstd -dcq "$src" > "$stage/$n.ko" ;;
	*.ko.gz)  gzip -dc "$src" > "$stage/$n.ko" ;;
	*.ko)     cp "$src" "$stage/$n.ko" ;;
	*)        die "unknown module format: $src" ;;
	esac
	echo "$n.ko" >> "$stage/load.order"
done
log "modules (load order): ${order[*]}"

make_initramfs "$CLOUD/initramfs.cpio" "$GUEST_DIR/init" "$stage"
echo "$stamp" > "$CLOUD/.stamp"
log "done: $CLOUD/{vmlinuz,initramfs.cpio,kernel.release} for $release"
