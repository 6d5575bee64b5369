#!/bin/sh
# Run each libFuzzer target for a bounded time on a generated seed corpus; print "fuzz: N passed, N failed".
# Usage: run.sh FUZZ_DIR SECONDS TARGET...   A target passes when it runs its time without a crash.
dir=$1; secs=$2; shift 2
pass=0; fail=0
for t in "$@"; do
	corpus=$dir/corpus_$t
	mkdir -p "$corpus" "$dir/artifacts_$t"
	"$dir/gen_seeds" "$t" "$corpus" 2>/dev/null || true	# targets without seeds start empty
	if "$dir/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$dir/artifacts_$t/" "$corpus" >"$dir/fuzz_$t.log" 2>&1; then
		echo "  ok   fuzz_$t ($(grep -o 'Done [0-9]* runs' "$dir/fuzz_$t.log" | tail -n 1))"
		pass=$((pass + 1))
	else
		echo "  FAIL fuzz_$t: see $dir/fuzz_$t.log and $dir/artifacts_$t/"
		tail -n 25 "$dir/fuzz_$t.log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
