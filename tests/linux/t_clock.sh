# clock: the guest measures its own clocks against the host's. ckvm's CMOS RTC reads the host clock
# at each port access, so guest/tools/clockprobe waits for the RTC seconds register to change and
# reads CLOCK_REALTIME and CLOCK_MONOTONIC right at that edge (a whole host second), five edges
# before and five after sleeping CKVM_CLOCK_SECS (default 60). No host-side timing is involved.
# Host load can only delay the guest between seeing the edge and reading its clock (a CI run saw
# three edges at +0.348 s and one at +0.396 s), so the error is one-sided: per end the smallest
# offset (guest clock - host second) is the estimate, not the median. drift = change of that offset
# / host seconds elapsed. Bound: 100 ppm for both clocks.
SECS_SLEEP=${CKVM_CLOCK_SECS:-60}
BOUND_PPM=100
CMDLINE_EXTRA="quiet ckvm.sleep=$SECS_SLEEP" boot clock
res=$(tr -d '\r' < "$OUT" | awk -v bound="$BOUND_PPM" '
	function wrap(x) { while (x > 43200) x -= 86400; while (x < -43200) x += 86400; return x }
	function least(arr, n,   i, m) {
		m = arr[1]
		for (i = 2; i <= n; i++) if (arr[i] < m) m = arr[i]
		return m
	}
	$1 == "CKVM-RTCEDGE" {
		s = $2; sod = $4; g = $5; m = $6
		n[s]++
		woff[s, n[s]] = wrap((g % 86400) - sod)
		moff[s, n[s]] = m - sod
		host[s] = sod
	}
	END {
		if (n["A"] < 1 || n["B"] < 1) { print "missing RTC edge samples"; exit 1 }
		for (t = 1; t <= 2; t++) {
			s = t == 1 ? "A" : "B"
			for (i = 1; i <= n[s]; i++) { w[i] = woff[s, i]; mm[i] = moff[s, i] }
			W[s] = least(w, n[s]); M[s] = least(mm, n[s])
		}
		span = wrap(host["B"] - host["A"])
		if (span <= 0) { print "no time elapsed between the samples"; exit 1 }
		dw = (W["B"] - W["A"]) / span * 1e6
		dm = (M["B"] - M["A"]) / span * 1e6
		printf "over %d host seconds: wall clock drift %+.1f ppm, monotonic drift %+.1f ppm (bound %d ppm)\n", span, dw, dm, bound
		if (dw < -bound || dw > bound || dm < -bound || dm > bound) exit 1
	}')
awk_rc=$?
echo "  clock: $res"
if [ "$RC" -ne 0 ]; then
	bad "exit status $RC"
elif [ "$awk_rc" -ne 0 ]; then
	bad "$res"
else
	ok "$res, ${SECS}s"
fi
