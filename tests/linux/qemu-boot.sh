#!/bin/bash
# Boot the guest built by guest/build.sh under QEMU (reference VMM) and check
# the init's markers. Used to validate the kernel config and guest/init, and to
# get reference boot times next to ckvm's.
#   tests/linux/qemu-boot.sh [--accel kvm|tcg] [--kernel bzImage|vmlinux|cloud]
#                            [--mode boot|blk|net|smp|clock] [--timeout S] [--smp N]
# blk: an ext4 image with a random input.bin on virtio-blk; net: QEMU user
# networking, a host server on 127.0.0.1:5555 (guest sees it as 10.0.2.2).
# Prints "time to 'Run /init'" and "time to CKVM-DONE" (host wall clock).
set -euo pipefail

CACHE=${CKVM_CACHE:-/var/cache/ckvm}
ACCEL=kvm KERNEL=bzImage MODE=boot TIMEOUT=300 SMP=1
while [ $# -gt 0 ]; do
	case $1 in
	--accel)   ACCEL=$2; shift 2 ;;
	--kernel)  KERNEL=$2; shift 2 ;;
	--mode)    MODE=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--smp)     SMP=$2; shift 2 ;;
	*) echo "usage: $0 [--accel kvm|tcg] [--kernel bzImage|vmlinux|cloud] [--mode M]" >&2; exit 2 ;;
	esac
done

case $KERNEL in
bzImage) kimg=$CACHE/bzImage; initrd=$CACHE/initramfs.cpio ;;
vmlinux) kimg=$CACHE/vmlinux; initrd=$CACHE/initramfs.cpio ;;
cloud)   kimg=$CACHE/cloud/vmlinuz; initrd=$CACHE/cloud/initramfs.cpio ;;
*) echo "unknown kernel $KERNEL" >&2; exit 2 ;;
esac
for f in "$kimg" "$initrd"; do
	[ -f "$f" ] || { echo "missing $f (run guest/build.sh / guest/fetch-cloud-kernel.sh)" >&2; exit 2; }
done

# Options that keep the software-KVM host (kvm_pvm) on paths it handles.
append="console=ttyS0 ckvm.test=$MODE"
# XSAVEERPTR: without it an AMD guest runs the FXSAVE-leak workaround
# (fnclex; emms; fild) on every FPU restore, which kvm_pvm cannot emulate.
cpu=()
if [ "$ACCEL" = kvm ]; then
	append="$append noxsave clearcpuid=smap,popcnt,ssse3,erms,fsrm,rep_good noreplace-smp rodata=off nofsgsbase"
	cpu=(-cpu qemu64,+xsaveerptr)
	# Stock kernels use SLUB, whose cmpxchg16b kvm_pvm cannot emulate either.
	[ "$KERNEL" = cloud ] && append="${append/clearcpuid=/clearcpuid=cx16,}"
fi
[ "$MODE" = clock ] && append="$append ckvm.sleep=5"

work=$(mktemp -d /tmp/ckvm-qemu.XXXXXX)
log=$work/console.log
dev=()
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; true' EXIT
case $MODE in
blk)
	mkdir "$work/fs"
	head -c 1048576 /dev/urandom > "$work/fs/input.bin"
	want=$(sha256sum "$work/fs/input.bin" | cut -d' ' -f1)
	mkfs.ext4 -q -F -d "$work/fs" "$work/disk.img" 16M
	dev=(-drive "file=$work/disk.img,if=none,format=raw,id=d0" -device virtio-blk-pci,drive=d0) ;;
net)
	head -c 65536 /dev/urandom > "$work/net.bin"
	want=$(sha256sum "$work/net.bin" | cut -d' ' -f1)
	python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 5555)); s.listen(1); c, _ = s.accept()
c.sendall(open(sys.argv[1], "rb").read()); c.close()' "$work/net.bin" &
	srv=$!
	append="$append ckvm.ip=10.0.2.15/24 ckvm.peer=10.0.2.2"
	dev=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0) ;;
esac

# Stamp every console line with the host time since start.
timeout "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -m 256 -smp "$SMP" "${cpu[@]}" -nographic \
	-no-reboot "${dev[@]}" -kernel "$kimg" -initrd "$initrd" -append "$append" </dev/null 2>&1 |
	perl -MTime::HiRes=time -ne 'BEGIN { $| = 1; $t0 = time }
		printf("%8.3f %s", time - $t0, $_)' | tee "$log" || true

at() { awk -v pat="$1" 'index($0, pat) { print $1; exit }' "$log"; }
echo "== accel=$ACCEL kernel=$KERNEL mode=$MODE log=$log"
echo "== host time to 'Run /init': $(at 'Run /init' || true) s"
echo "== host time to CKVM-DONE:   $(at 'CKVM-DONE' || true) s"
echo "== host time to last marker: $(grep 'CKVM-' "$log" | tail -n 1 | awk '{ print $1 }') s"
case $MODE in
boot)  grep -q 'CKVM-DONE' "$log" ;;
blk)   grep -q "CKVM-SHA $want" "$log" && grep -q 'CKVM-BLK-DONE' "$log" &&
       debugfs -R 'cat /output.txt' "$work/disk.img" 2>/dev/null | grep -q '^written-by-guest ' ;;
net)   grep -q "CKVM-NET-SHA $want" "$log" ;;
smp)   grep -q 'CKVM-NPROC' "$log" ;;
clock) [ "$(grep -c 'CKVM-CLOCK [AB] ' "$log")" -eq 10 ] ;;
esac && echo "== PASS" || { echo "== FAIL"; exit 1; }
