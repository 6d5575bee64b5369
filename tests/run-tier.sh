#!/bin/sh
# Run a tier's test programs, each printing its own "N passed, N failed"; sum them.
# Usage: run-tier.sh TIER PROG...   Exits non-zero if any program fails or nothing ran.
# A PROG may carry arguments ("tests/guests/run.sh build/tsan/ckvm build/tests/guests"): it is split
# at blanks (paths with blanks are not supported).
tier=$1; shift
pass=0; fail=0
for prog in "$@"; do
	# A program that hangs (a lost wake-up, a peer that never answers) fails its tier instead of
	# stalling the suite: each gets TIER_PROG_TIMEOUT seconds (default 1500).
	# shellcheck disable=SC2086
	out=$(timeout -k 10 "${TIER_PROG_TIMEOUT:-1500}" $prog 2>&1); rc=$?
	[ "$rc" -eq 124 ] && echo "  $prog: killed after ${TIER_PROG_TIMEOUT:-1500} s"
	echo "$out" | sed "s|^|  |"
	line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$line" ] || { p=0; f=1; echo "  $prog: no summary line (rc=$rc)"; }
	[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || { f=1; echo "  $prog: exit status $rc"; }
	pass=$((pass + p)); fail=$((fail + f))
done
echo "$tier: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
