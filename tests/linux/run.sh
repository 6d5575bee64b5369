#!/bin/bash
# Real-Linux tests: boot the default guest (guest/build.sh) with ckvm.test=MODE and check what the
# guest's init and kernel print. Usage: run.sh CKVM TEST...  (TESTS: kimage boot kaslr guestdecomp configfile
# shell blk net smp2 smp4 acpioff clock api cloud). bzImages are inflated by the host (ckvm's default)
# except in guestdecomp. Prints PASS/FAIL per test, timings, the tier's total time and
# "linux: N passed, N failed".
set -u
CKVM=$(realpath "$1"); shift
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CKVM_CACHE:-/var/cache/ckvm}
TIMEOUT=${CKVM_LINUX_TIMEOUT:-600}
WORK=$(mktemp -d /tmp/ckvm-linux.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0; fail=0
TIER_START=$(date +%s.%N) NTESTS=$#

ok()  { echo "PASS $T${1:+ ($1)}"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $T: $*"; fail=$((fail + 1))
	[ -f "$OUT" ] && tail -n 25 "$OUT" | tr -d '\r' | cut -c1-200 | sed 's/^/  serial: /'
	[ -n "${CKVM_KEEP_LOGS:-}" ] && mkdir -p "$CKVM_KEEP_LOGS" && cp "$OUT" "$CKVM_KEEP_LOGS/$T.serial"
	return 0
}

# boot MODE [ckvm args...]: run the default guest; sets OUT (serial log), RC, SECS.
boot() {
	local mode=$1; shift
	OUT=$WORK/$T.serial
	local start=$(date +%s.%N)
	timeout -k 5 "$TIMEOUT" "$CKVM" run --kernel "${KERNEL:-$CACHE/bzImage}" \
		--initrd "${INITRD:-$CACHE/initramfs.cpio}" --memory "${MEM:-128M}" \
		--serial "file=$OUT" --cmdline "console=ttyS0 ckvm.test=$mode ${CMDLINE_EXTRA:-}" \
		"$@" </dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr"
	RC=$?
	SECS=$(echo "$(date +%s.%N) - $start" | bc)
	SECS=$(printf '%.1f' "$SECS")
	[ "$RC" -eq 124 ] && echo "  $T: timed out after ${TIMEOUT}s"
	[ -s "$WORK/$T.stderr" ] && sed 's/^/  ckvm: /' "$WORK/$T.stderr" | head -5
	return 0
}

marker() { sed -n "s/^$1 //p" "$OUT" | tr -d '\r' | head -n 1; }
has()    { grep -q "^$1" "$OUT"; }

# Markers must appear in this order.
in_order() {
	local last=0 n m
	for m in "$@"; do
		n=$(grep -n "^$m" "$OUT" | head -n 1 | cut -d: -f1)
		[ -n "$n" ] && [ "$n" -gt "$last" ] || { echo "$m missing or out of order"; return 1; }
		last=$n
	done
}

for T in "$@"; do
	if [ ! -f "$HERE/t_$T.sh" ]; then
		echo "FAIL $T: no such test"; fail=$((fail + 1)); continue
	fi
	# shellcheck source=/dev/null
	. "$HERE/t_$T.sh"
done
printf 'linux tier: %.0f s in total for %d tests\n' "$(echo "$(date +%s.%N) - $TIER_START" | bc)" "$NTESTS"
echo "linux: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
