# Shared helpers for guest/build.sh and guest/fetch-cloud-kernel.sh.
# Sourced, not executed. Needs: bash, set -euo pipefail in the caller.

CACHE=${CKVM_CACHE:-/var/cache/ckvm}
GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[guest %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[guest] ERROR: %s\n' "$*" >&2; exit 1; }

# ensure_pkgs PKG...: install the Debian packages that are missing.
ensure_pkgs() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing missing packages: ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; then
		log "apt-get install failed; running apt-get update and retrying"
		apt-get update || die "apt-get update failed"
		DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" ||
			die "apt-get install ${missing[*]} failed"
	fi
}

# hash_files FILE...: one sha256 over the names and contents of FILEs.
hash_files() {
	local f
	for f in "$@"; do
		printf '%s\n' "$(basename "$f")"
		cat "$f"
	done | sha256sum | cut -d' ' -f1
}

# build_tools BINDIR: every guest/tools/NAME.c as a static binary BINDIR/NAME (clockprobe: init's
# clock mode reads both clocks and writes one line with no fork; bootmark: signals --boot-timer).
build_tools() {
	local src
	# musl keeps each ~30 KB (glibc static: ~680 KB, which the guest must
	# unpack at emulated speed on kvm_pvm hosts).
	ensure_pkgs musl-tools
	for src in "$GUEST_DIR"/tools/*.c; do
		[ -f "$src" ] || continue
		musl-gcc -static -O2 -Wall -o "$1/$(basename "$src" .c)" "$src" || die "building $src failed"
		strip "$1/$(basename "$src" .c)"
	done
}

# make_initramfs OUT INIT [MODDIR]: write an uncompressed newc cpio holding
# busybox-static with applet links, /init, guest/tools/*.c in /bin, an empty /dev with console and
# null nodes, /proc /sys /mnt /tmp, and optionally MODDIR copied to
# /lib/modules (with its load.order file).
make_initramfs() {
	local out=$1 init=$2 moddir=${3:-}
	local bb=/bin/busybox stage applet

	file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
		ldd "$bb" 2>&1 | grep -q 'not a dynamic' ||
		die "$bb is not the static busybox (install busybox-static)"
	[ -f "$init" ] || die "missing $init"
	[ "$(id -u)" -eq 0 ] || die "need root to create /dev nodes in the initramfs"

	stage=$(mktemp -d "$CACHE/initramfs.XXXXXX")
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt,tmp,etc,root,lib/modules}
	cp "$bb" "$stage/bin/busybox"
	for applet in $("$bb" --list-full); do
		[ -e "$stage/$applet" ] && continue
		mkdir -p "$stage/$(dirname "$applet")"
		ln -s /bin/busybox "$stage/$applet"
	done
	install -m 0755 "$init" "$stage/init"
	build_tools "$stage/bin"
	mknod -m 0600 "$stage/dev/console" c 5 1
	mknod -m 0666 "$stage/dev/null" c 1 3
	mknod -m 0600 "$stage/dev/ttyS0" c 4 64
	if [ -n "$moddir" ]; then
		cp -a "$moddir/." "$stage/lib/modules/"
	fi
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 > "$out.tmp") ||
		die "cpio failed for $out"
	rm -rf "$stage"
	mv "$out.tmp" "$out"
	log "wrote $out ($(stat -c %s "$out") bytes, uncompressed newc)"
}
