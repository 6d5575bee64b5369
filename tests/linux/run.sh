#!/bin/bash
# Real-Linux tests: boot the default guest (guest/build.sh) with ckvm.test=MODE and check what the
# guest's init and kernel print. Usage: run.sh CKVM TEST...  (TESTS: kimage boot kaslr guestdecomp configfile
# shell blk net smp2 smp4 acpioff clock api cloud ...: tests/linux/t_NAME.sh). bzImages are inflated by
# the host (ckvm's default) except in guestdecomp. Prints PASS/FAIL per test, each test's seconds,
# the tier's total time and "linux: N passed, N failed".
#
# Lanes: CKVM_LINUX_JOBS tests (default 2) run at once. A Linux boot keeps ONE host core busy (the
# software KVM emulates the guest kernel on its vCPU thread), so two lanes on a 2-core host take
# about half the wall time. Each test runs in its own subshell with its own $WORK directory; its
# output is held in a file and printed as one block when it ends, and its PASS/FAIL counts come back
# through a file. With more than one lane the tests start in ORDER (longest first, so that the lanes
# end together; tests not in ORDER start before all of them); with CKVM_LINUX_JOBS=1 they run one
# after another in the order given, their output streamed as before.
#
# What a t_NAME.sh must do to be lane-safe (it is sourced with T=NAME, in a subshell):
#  - files only under $WORK (its own per test: sockets, images, FIFOs, logs; not /tmp, not $HERE);
#  - host-global names unique per test: a network namespace ckvm-$T-$$ (taps and bridges inside it
#    may then have any name), no fixed TCP/UDP port outside its own namespace (bind port 0 and
#    read the port back), no fixed abstract socket names;
#  - no reliance on another test's variables or on the order of tests (fold what it needs into one
#    file, as t_kaslr.sh does); wait only for its own background processes (by PID);
#  - report with ok/bad (one call per result: they count) and add itself to ORDER below.
# Time-based bounds must hold with another boot on the other core (two lanes) and other load.
set -u
CKVM=$(realpath "$1"); shift
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CKVM_CACHE:-/var/cache/ckvm}
TIMEOUT=${CKVM_LINUX_TIMEOUT:-600}
JOBS=${CKVM_LINUX_JOBS:-2}
[ "$JOBS" -ge 1 ] 2>/dev/null || { echo "CKVM_LINUX_JOBS='$JOBS': expected a number >= 1"; exit 2; }
# Longest first, by the seconds each took on the 2-core software-KVM host with two lanes.
ORDER="biosdisk vdevs smp4 kaslr clock snapmig api vunet vufs acpioff guestdecomp vublk net blk shell boot configfile gdb
       smp2 cloud kimage"
BASE=$(mktemp -d /tmp/ckvm-linux.XXXXXX)
trap 'rm -rf "$BASE"' EXIT
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

# run_test NAME: one test, meant for a subshell (its variables and functions stay there). Leaves
# "PASSED FAILED" in $BASE/NAME.count; a test whose shell ends early leaves none (counted as failed).
run_test() {
	# A test may `set --` (it is sourced here, so that changes $1) or reuse T: keep the name apart
	# (rt_*: no test uses such names).
	local rt_name=$1 rt_t0
	rt_t0=$(date +%s.%N)
	T=$rt_name WORK=$BASE/$rt_name OUT=$BASE/$rt_name/$rt_name.serial RC='' SECS='' pass=0 fail=0
	mkdir -p "$WORK"
	if [ ! -f "$HERE/t_$rt_name.sh" ]; then
		echo "FAIL $rt_name: no such test"; fail=1
	else
		# shellcheck source=/dev/null
		. "$HERE/t_$rt_name.sh"
	fi
	printf '  %s: %.0f s\n' "$rt_name" "$(echo "$(date +%s.%N) - $rt_t0" | bc)"
	echo "$pass $fail" >"$BASE/$rt_name.count"
}

# collect NAME: add the test's counts to the tier's.
collect() {
	local p f
	if read -r p f 2>/dev/null <"$BASE/$1.count"; then
		pass=$((pass + p)); fail=$((fail + f))
	else
		echo "FAIL $1: its shell ended before reporting"; fail=$((fail + 1))
	fi
}

if [ "$JOBS" -eq 1 ]; then
	for name in "$@"; do
		( run_test "$name" )
		collect "$name"
	done
else
	# The given tests in ORDER's order, those ORDER does not know first.
	tests=
	for name in "$@"; do
		case " $(echo $ORDER) " in *" $name "*) ;; *) tests="$tests $name" ;; esac
	done
	for o in $ORDER; do
		for name in "$@"; do [ "$name" = "$o" ] && tests="$tests $name"; done
	done
	declare -A lane_of=()
	# reap: wait for any one test to end, print its block, count it.
	reap() {
		local pid name
		wait -n -p pid
		name=${lane_of[$pid]}
		unset "lane_of[$pid]"
		cat "$BASE/$name.log"
		collect "$name"
	}
	for name in $tests; do
		[ "${#lane_of[@]}" -lt "$JOBS" ] || reap
		( run_test "$name" ) </dev/null >"$BASE/$name.log" 2>&1 &
		lane_of[$!]=$name
	done
	while [ "${#lane_of[@]}" -gt 0 ]; do reap; done
fi
printf 'linux tier: %.0f s in total for %d tests (%d at once)\n' "$(echo "$(date +%s.%N) - $TIER_START" | bc)" "$NTESTS" "$JOBS"
echo "linux: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
