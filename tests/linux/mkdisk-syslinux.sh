#!/bin/sh
# Build a raw PC disk image that boots through its own bootloader, the way a user installs one:
# an MBR partition table (sfdisk) with one bootable FAT16 partition at 1 MiB (mkfs.fat), the
# kernel, the initramfs and syslinux.cfg copied in with mtools, syslinux installed into the
# partition's boot sector and ldlinux.sys, and syslinux's MBR code in the first 440 bytes.
# Nothing is mounted and no loop device is used, so it runs unprivileged and in containers.
# Usage: tests/linux/mkdisk-syslinux.sh OUT.img [KERNEL [INITRD [APPEND]]]
# (default: the default guest in /var/cache/ckvm, "console=ttyS0 ckvm.test=boot").
# Packages: fdisk, dosfstools, mtools, syslinux, syslinux-common (scripts/deps.sh test).
set -eu
out=${1:?usage: mkdisk-syslinux.sh OUT.img [KERNEL [INITRD [APPEND]]]}
cache=${CKVM_CACHE:-/var/cache/ckvm}
kernel=${2:-$cache/bzImage}
initrd=${3:-$cache/initramfs.cpio}
append=${4:-console=ttyS0 ckvm.test=boot}
mbr=/usr/lib/syslinux/mbr/mbr.bin

for tool in sfdisk mkfs.fat mcopy syslinux; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null 2>&1 ||
		{ echo "mkdisk-syslinux: $tool not found (scripts/deps.sh test)" >&2; exit 2; }
done
export PATH="$PATH:/usr/sbin:/sbin"
[ -r "$mbr" ] || { echo "mkdisk-syslinux: $mbr not found (package syslinux-common)" >&2; exit 2; }
for f in "$kernel" "$initrd"; do
	[ -r "$f" ] || { echo "mkdisk-syslinux: cannot read $f" >&2; exit 2; }
done

# Size: the payload plus 8 MiB of room for FAT16's tables and syslinux, rounded to whole MiB.
payload=$(( $(stat -c %s "$kernel") + $(stat -c %s "$initrd") ))
part_mib=$(( payload / 1048576 + 8 ))
start=2048					# sectors: the partition starts at 1 MiB
part_sectors=$(( part_mib * 2048 ))
rm -f "$out"
truncate -s $(( (start + part_sectors) * 512 )) "$out"

# type 6 = FAT16; bootable marks it active, which mbr.bin looks for.
printf 'label: dos\nstart=%d, size=%d, type=6, bootable\n' "$start" "$part_sectors" |
	sfdisk --quiet --no-reread --no-tell-kernel "$out"
# The file system inside the image at the partition's offset; the hidden-sector count tells the
# boot sector where its partition starts on the disk (syslinux's loader adds it to its LBAs).
mkfs.fat -F 16 -n CKVMBOOT --offset "$start" -h "$start" "$out" $(( part_sectors / 2 )) >/dev/null

cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
# SERIAL 0 115200: syslinux talks on COM1, which is the ckvm console; no prompt, no timeout.
cat >"$cfg" <<EOF
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
	KERNEL /bzImage
	INITRD /initrd.cpio
	APPEND $append
EOF
img="$out@@$(( start * 512 ))"
MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$kernel" ::/bzImage
MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$initrd" ::/initrd.cpio
MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$cfg" ::/syslinux.cfg
# syslinux writes ldlinux.sys/ldlinux.c32 through mtools and patches the partition's boot sector.
syslinux --install --offset $(( start * 512 )) "$out"
# The MBR code (440 bytes: the partition table and signature after it stay) chains to the active
# partition's boot sector.
dd if="$mbr" of="$out" bs=440 count=1 conv=notrunc status=none
echo "mkdisk-syslinux: $out ($(( (start + part_sectors) / 2048 )) MiB, FAT16 at 1 MiB, syslinux)"
