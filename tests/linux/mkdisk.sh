#!/bin/sh
# Build a raw PC disk image that boots through its own bootloader, the way a user installs one:
# an MBR partition table (sfdisk) with one active FAT12 partition at 1 MiB (mkfs.fat inside the
# image), the kernel and initramfs copied in with mtools, and a Debian bootloader:
#   grub      GRUB's i386-pc boot.img in the MBR and a core.img (grub-mkimage: biosdisk, part_msdos,
#             fat, with an embedded config that loads the kernel) in the gap before the partition,
#             the two pieces grub-install writes on a BIOS disk, and the linux module with its
#             dependencies in the partition's /boot/grub/i386-pc, where grub-install puts them;
#   syslinux  syslinux.cfg + `syslinux --install --offset` into the partition and mbr.bin in the MBR.
# Nothing is mounted and no loop device is used. Both images boot under QEMU + SeaBIOS; on a
# software-KVM host only grub does (syslinux 6 services interrupts in 32-bit protected mode and
# returns with IRET, which KVM's instruction emulator cannot emulate outside real mode).
# Usage: tests/linux/mkdisk.sh grub|syslinux OUT.img [KERNEL [INITRD [APPEND]]]
# (default: the default guest in /var/cache/ckvm, "console=ttyS0 ckvm.test=boot").
# Packages: fdisk, dosfstools, mtools, grub-pc-bin, syslinux, syslinux-common (scripts/deps.sh test).
set -eu
usage="usage: mkdisk.sh grub|syslinux OUT.img [KERNEL [INITRD [APPEND]]]"
loader=${1:-}
out=${2:?$usage}
cache=${CKVM_CACHE:-/var/cache/ckvm}
kernel=${3:-$cache/bzImage}
initrd=${4:-$cache/initramfs.cpio}
append=${5:-console=ttyS0 ckvm.test=boot}
grubdir=/usr/lib/grub/i386-pc
mbr=/usr/lib/syslinux/mbr/mbr.bin

case $loader in
grub)		tools="sfdisk mkfs.fat mcopy mmd grub-mkimage"; need=$grubdir/boot.img ;;
syslinux)	tools="sfdisk mkfs.fat mcopy syslinux"; need=$mbr ;;
*)		echo "mkdisk: unknown loader '$loader'; $usage" >&2; exit 2 ;;
esac
export PATH="$PATH:/usr/sbin:/sbin"
for tool in $tools; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "mkdisk: $tool not found (scripts/deps.sh test)" >&2; exit 2; }
done
for f in "$need" "$kernel" "$initrd"; do
	[ -r "$f" ] || { echo "mkdisk: cannot read $f" >&2; exit 2; }
done

# Size: the payload plus 8 MiB of room for FAT tables and the loader, in whole MiB.
payload=$(( $(stat -c %s "$kernel") + $(stat -c %s "$initrd") ))
part_mib=$(( payload / 1048576 + 8 ))
start=2048					# sectors: the partition starts at 1 MiB
part_sectors=$(( part_mib * 2048 ))
rm -f "$out"
truncate -s $(( (start + part_sectors) * 512 )) "$out"

# type 1 = FAT12; bootable marks it active, which mbr.bin looks for.
printf 'label: dos\nstart=%d, size=%d, type=1, bootable\n' "$start" "$part_sectors" |
	sfdisk --quiet --no-reread --no-tell-kernel "$out"
# The file system inside the image at the partition's offset; the hidden-sector count tells the
# boot sector where its partition starts on the disk. 32 KiB clusters (so FAT12: a few hundred of
# them): a loader reads a file cluster by cluster, one BIOS disk call each, and under an emulated
# CPU every call costs mode switches and device exits.
mkfs.fat -F 12 -s 64 -n CKVMBOOT --offset "$start" -h "$start" "$out" $(( part_sectors / 2 )) >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img="$out@@$(( start * 512 ))"
MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$kernel" ::/bzImage
MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$initrd" ::/initrd.cpio

if [ "$loader" = grub ]; then
	# The config is built into core.img, so the partition needs no grub.cfg; GRUB prints through
	# the BIOS (SeaBIOS's serial console), the kernel on console=ttyS0.
	cat >"$tmp/early.cfg" <<-END
	set root=(hd0,msdos1)
	insmod linux
	linux /bzImage $append
	initrd /initrd.cpio
	boot
	END
	# core.img holds only what finds the partition; the linux module is loaded from the file
	# system. For i386-pc grub-mkimage always LZMA-compresses the core (-C is ignored there), and
	# linux pulls in normal, net, video and more (~300 KB): decompressing them in GRUB's emulated
	# protected mode took ~50 s on a software-KVM host, reading the same modules ~10 s.
	grub-mkimage -O i386-pc -o "$tmp/core.img" -c "$tmp/early.cfg" -p '(hd0,msdos1)/boot/grub' \
		biosdisk part_msdos fat
	# linux and everything it depends on, from the GRUB build's own dependency list.
	mods=linux todo=linux
	while [ -n "$todo" ]; do
		set -- $todo
		todo=
		for m; do
			for d in $(sed -n "s/^$m://p" "$grubdir/moddep.lst"); do
				case " $mods " in *" $d "*) ;; *) mods="$mods $d" todo="$todo $d" ;; esac
			done
		done
	done
	MTOOLS_SKIP_CHECK=1 mmd -i "$img" ::/boot ::/boot/grub ::/boot/grub/i386-pc
	for m in $mods; do
		MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$grubdir/$m.mod" ::/boot/grub/i386-pc/
	done
	# core.img goes to sector 1 (boot.img's default kernel sector); its first sector, diskboot,
	# loads the rest from sector 2 on (grub-mkimage fills in the sector count).
	[ $(( $(stat -c %s "$tmp/core.img") / 512 + 1 )) -lt "$start" ] ||
		{ echo "mkdisk: core.img does not fit before the partition" >&2; exit 1; }
	dd if="$tmp/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none
	dd if="$grubdir/boot.img" of="$out" bs=440 count=1 conv=notrunc status=none
else
	# SERIAL 0 115200: syslinux talks on COM1, which is the ckvm console; no prompt, no timeout.
	cat >"$tmp/syslinux.cfg" <<-END
	SERIAL 0 115200
	DEFAULT linux
	PROMPT 0
	TIMEOUT 0
	LABEL linux
	KERNEL /bzImage
	INITRD /initrd.cpio
	APPEND $append
	END
	MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$tmp/syslinux.cfg" ::/syslinux.cfg
	# syslinux writes ldlinux.sys/ldlinux.c32 through mtools and patches the partition's boot
	# sector; mbr.bin (440 bytes: the partition table after it stays) chains to the active one.
	syslinux --install --offset $(( start * 512 )) "$out"
	dd if="$mbr" of="$out" bs=440 count=1 conv=notrunc status=none
fi
echo "mkdisk: $out ($(( (start + part_sectors) / 2048 )) MiB, FAT12 at 1 MiB, $loader)"
