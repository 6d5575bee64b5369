#!/bin/bash
# Build ckvm's default Linux guest from Debian packages, into a cache outside
# the clone: ${CKVM_CACHE:-/var/cache/ckvm}/{bzImage,vmlinux,initramfs.cpio,
# kernel.release}. Idempotent: stamps skip work whose inputs did not change.
#   CKVM_JOBS=N   parallel make jobs (default 2)
#   --force       rebuild the kernel even if the stamp matches
set -euo pipefail

. "$(dirname "$0")/lib.sh"

JOBS=${CKVM_JOBS:-2}
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

FRAGMENT=$GUEST_DIR/kernel.config
SRC=$CACHE/src
TARBALL=/usr/src/linux-source-6.1.tar.xz

mkdir -p "$CACHE" || die "cannot create $CACHE"
ensure_pkgs linux-source-6.1 busybox-static bc bison flex libelf-dev libssl-dev \
	cpio make gcc libc6-dev xz-utils file patch
[ -f "$TARBALL" ] || die "$TARBALL missing although linux-source-6.1 is installed"

shopt -s nullglob
PATCHES=("$GUEST_DIR"/patches/*.patch)
shopt -u nullglob

src_ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
patch_stamp=$(hash_files "${PATCHES[@]}" /dev/null)
# The kernel image depends on the source, the patches, the config fragment
# and these scripts.
kern_stamp=$( { echo "$src_ver $patch_stamp"; hash_files "$FRAGMENT" "$0" "$GUEST_DIR/lib.sh"; } |
	sha256sum | cut -d' ' -f1)

# extract_source: a pristine tree of $src_ver in $SRC (kept across builds).
extract_source() {
	if [ -f "$SRC/.ckvm-src-version" ] && [ "$(cat "$SRC/.ckvm-src-version")" = "$src_ver" ]; then
		return
	fi
	log "extracting $TARBALL ($src_ver) into $SRC"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$TARBALL" -C "$SRC.tmp" --strip-components=1 || die "tar failed"
	mkdir -p "$SRC.tmp/.ckvm-applied"
	echo "$src_ver" > "$SRC.tmp/.ckvm-src-version"
	mv "$SRC.tmp" "$SRC"
}

# apply_patches: make the tree carry exactly guest/patches/*.patch. Patches
# applied earlier are reverted from the copies kept in .ckvm-applied (only the
# touched files get rebuilt); if that fails the tree is extracted again.
apply_patches() {
	local applied=$SRC/.ckvm-applied p old
	if [ "$(cat "$applied/stamp" 2>/dev/null)" = "$patch_stamp" ]; then
		log "source tree $SRC up to date ($src_ver, ${#PATCHES[@]} patches)"
		return
	fi
	for old in $(ls "$applied"/*.patch 2>/dev/null | sort -r); do
		log "reverting $(basename "$old")"
		if ! patch -d "$SRC" -p1 -R --batch --silent < "$old"; then
			log "revert failed; extracting a fresh tree"
			rm -rf "$SRC"
			extract_source
			break
		fi
		rm -f "$old"
	done
	rm -f "$applied"/*.patch "$applied/stamp"
	for p in "${PATCHES[@]}"; do
		log "applying $(basename "$p")"
		patch -d "$SRC" -p1 --batch --forward < "$p" || die "patch $p does not apply"
		cp "$p" "$applied/"
	done
	echo "$patch_stamp" > "$applied/stamp"
}

# verify_config: every option the fragment sets must end up with that value.
verify_config() {
	local line opt val bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			opt=${line%%=*}; val=${line#*=}
			if ! grep -qx "$opt=$val" "$SRC/.config"; then
				echo "  MISSING: $line (have: $(grep -E "^$opt=|^# $opt is not set" "$SRC/.config" || echo absent))" >&2
				bad=1
			fi ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			if grep -qE "^$opt=" "$SRC/.config"; then
				echo "  NOT OFF: $(grep -E "^$opt=" "$SRC/.config")" >&2
				bad=1
			fi ;;
		esac
	done < "$FRAGMENT"
	# Implied options the guest relies on that the fragment does not name.
	for opt in CONFIG_PCI_DIRECT CONFIG_X86_64 CONFIG_VIRTIO CONFIG_VIRTIO_PCI_LIB; do
		grep -qx "$opt=y" "$SRC/.config" || { echo "  MISSING: $opt=y" >&2; bad=1; }
	done
	[ $bad -eq 0 ] || die "kernel config lost required options (see above)"
	log "config verified: all $(grep -cE '^(CONFIG_|# CONFIG_)' "$FRAGMENT") fragment lines hold"
}

build_kernel() {
	if [ $FORCE -eq 0 ] && [ -f "$CACHE/.kernel-stamp" ] &&
	   [ "$(cat "$CACHE/.kernel-stamp")" = "$kern_stamp" ] &&
	   [ -f "$CACHE/bzImage" ] && [ -f "$CACHE/vmlinux" ]; then
		log "kernel up to date ($(cat "$CACHE/kernel.release")), stamp ${kern_stamp:0:12}"
		return
	fi
	rm -f "$CACHE/.kernel-stamp"
	extract_source
	apply_patches
	log "configuring: tinyconfig + $(basename "$FRAGMENT")"
	make -C "$SRC" -s tinyconfig >/dev/null || die "make tinyconfig failed"
	(cd "$SRC" && scripts/kconfig/merge_config.sh -m .config "$FRAGMENT" >/dev/null) ||
		die "merge_config.sh failed"
	make -C "$SRC" -s olddefconfig || die "make olddefconfig failed"
	verify_config
	log "building bzImage + vmlinux with make -j$JOBS (several minutes)"
	local t0=$SECONDS
	make -C "$SRC" -j"$JOBS" bzImage > "$CACHE/build.log" 2>&1 ||
		{ tail -40 "$CACHE/build.log" >&2; die "kernel build failed, log: $CACHE/build.log"; }
	log "kernel built in $((SECONDS - t0)) s"
	readelf -n "$SRC/vmlinux" | grep -A1 '^ *Xen' | grep -q '0x00000012' ||
		die "vmlinux lacks the PVH (XEN_ELFNOTE_PHYS32_ENTRY) note"
	cp "$SRC/arch/x86/boot/bzImage" "$CACHE/bzImage.tmp"
	cp "$SRC/vmlinux" "$CACHE/vmlinux.tmp"
	cp "$SRC/.config" "$CACHE/kernel.config.full"
	make -C "$SRC" -s kernelrelease > "$CACHE/kernel.release.tmp"
	mv "$CACHE/bzImage.tmp" "$CACHE/bzImage"
	mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
	mv "$CACHE/kernel.release.tmp" "$CACHE/kernel.release"
	echo "$kern_stamp" > "$CACHE/.kernel-stamp"
	log "kernel $(cat "$CACHE/kernel.release"): bzImage $(stat -c %s "$CACHE/bzImage") B," \
		"vmlinux $(stat -c %s "$CACHE/vmlinux") B"
}

build_initramfs() {
	local stamp
	stamp=$( { dpkg-query -W -f='${Version}' busybox-static;
		hash_files "$GUEST_DIR/init" "$GUEST_DIR/lib.sh" \
			"$GUEST_DIR"/tools/*.c; } | sha256sum | cut -d' ' -f1)
	if [ -f "$CACHE/initramfs.cpio" ] && [ -f "$CACHE/.initramfs-stamp" ] &&
	   [ "$(cat "$CACHE/.initramfs-stamp")" = "$stamp" ]; then
		log "initramfs up to date"
		return
	fi
	make_initramfs "$CACHE/initramfs.cpio" "$GUEST_DIR/init"
	echo "$stamp" > "$CACHE/.initramfs-stamp"
}

build_kernel
build_initramfs
log "done: $CACHE/{bzImage,vmlinux,initramfs.cpio,kernel.release}"
