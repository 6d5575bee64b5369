#!/bin/bash
# Boot the guest built by guest/build.sh under QEMU (reference VMM) and check
# the init's markers. Used to validate the kernel config and guest/init, and to
# get reference boot times next to ckvm's.
#   tests/linux/qemu-boot.sh [--accel kvm|tcg] [--kernel bzImage|vmlinux|cloud]
#                            [--mode boot|smp|clock] [--timeout S] [--smp N]
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
[ "$ACCEL" = kvm ] &&
	append="$append noxsave clearcpuid=smap,popcnt,ssse3,erms,fsrm,rep_good noreplace-smp rodata=off"
[ "$MODE" = clock ] && append="$append ckvm.sleep=5"

log=$(mktemp /tmp/ckvm-qemu.XXXXXX.log)
# Stamp every console line with the host time since start.
timeout "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -m 256 -smp "$SMP" -nographic \
	-no-reboot -kernel "$kimg" -initrd "$initrd" -append "$append" </dev/null 2>&1 |
	perl -MTime::HiRes=time -ne 'BEGIN { $| = 1; $t0 = time }
		printf("%8.3f %s", time - $t0, $_)' | tee "$log" || true

at() { awk -v pat="$1" 'index($0, pat) { print $1; exit }' "$log"; }
echo "== accel=$ACCEL kernel=$KERNEL mode=$MODE log=$log"
echo "== host time to 'Run /init': $(at 'Run /init' || true) s"
echo "== host time to CKVM-DONE:   $(at 'CKVM-DONE' || true) s"
case $MODE in
boot)  grep -q 'CKVM-DONE' "$log" ;;
smp)   grep -q 'CKVM-NPROC' "$log" ;;
clock) [ "$(grep -c 'CKVM-CLOCK' "$log")" -eq 2 ] ;;
esac && echo "== PASS" || { echo "== FAIL"; exit 1; }
