#!/bin/sh
# Run each libFuzzer target for a bounded time on its corpus; print "fuzz: N passed, N failed".
# Usage: run.sh FUZZ_DIR SECONDS TARGET...   A target passes when it runs its time without a crash.
# The corpus FUZZ_DIR/corpus_NAME is seeded by gen_seeds and tests/fuzz/seeds/NAME/ (if present) and
# kept between runs. Env: FUZZ_JOBS targets at once (default 1).
here=$(cd "$(dirname "$0")" && pwd)
dir=$1; secs=$2; shift 2
jobs=${FUZZ_JOBS:-1}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1

# One target: seed, fuzz, leave a one-line verdict in $dir/result_NAME (and the log in fuzz_NAME.log).
run_one() {
	t=$1
	corpus=$dir/corpus_$t
	mkdir -p "$corpus" "$dir/artifacts_$t"
	"$dir/gen_seeds" "$t" "$corpus" 2>/dev/null || true	# targets without generated seeds
	[ -d "$here/seeds/$t" ] && cp "$here/seeds/$t"/* "$corpus"/ 2>/dev/null
	# The subshell's `times` gives the fuzzer's CPU time (user, system): with more targets than
	# cores, wall time alone overstates the work done.
	if ( "$dir/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts_$t/" "$corpus" >"$dir/fuzz_$t.log" 2>&1; rc=$?
	     times >"$dir/cpu_$t"; exit $rc ); then
		runs=$(grep -o 'Done [0-9]* runs' "$dir/fuzz_$t.log" | tail -n 1)
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz_$t.log" | tail -n 1)
		cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$dir/fuzz_$t.log" | tail -n 1)
		cpu=$(awk 'END { print $1 " user, " $2 " sys" }' "$dir/cpu_$t" 2>/dev/null)
		echo "ok $t ($runs, ${rate:-?} exec/s, $cov, corpus $(find "$corpus" -type f | wc -l), cpu $cpu)" >"$dir/result_$t"
	else
		echo "FAIL $t" >"$dir/result_$t"
	fi
}

# Deal the targets round-robin to $jobs workers; each runs its share one after another.
pids=
for w in $(seq 1 "$jobs"); do
	share=
	k=0
	for t in "$@"; do
		[ $((k % jobs + 1)) -eq "$w" ] && share="$share $t"
		k=$((k + 1))
	done
	[ -n "$share" ] || continue
	( for t in $share; do run_one "$t"; done ) &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done

pass=0; fail=0
for t in "$@"; do
	line=$(cat "$dir/result_$t" 2>/dev/null || echo "FAIL $t")
	case $line in
	ok*)	echo "  ok   fuzz_${line#ok }"; pass=$((pass + 1)) ;;
	*)	echo "  FAIL fuzz_$t: see $dir/fuzz_$t.log and $dir/artifacts_$t/"
		tail -n 25 "$dir/fuzz_$t.log" | sed 's/^/    /'
		fail=$((fail + 1)) ;;
	esac
	rm -f "$dir/result_$t" "$dir/cpu_$t"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
