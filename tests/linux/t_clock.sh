# clock: the guest samples its wall (CLOCK_REALTIME) and monotonic clocks 5 times, sleeps
# CKVM_CLOCK_SECS (default 60), samples again. The host timestamps each line as it arrives on the
# serial port; per end, the sample with the smallest host-minus-guest offset (least latency) is
# used, and drift = change of that offset / host time elapsed. Bound: 100 ppm for both clocks.
SECS_SLEEP=${CKVM_CLOCK_SECS:-60}
BOUND_PPM=100
OUT=$WORK/$T.serial
start=$(date +%s.%N)
timeout -k 5 "$TIMEOUT" "$CKVM" run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" \
	--memory 128M --cmdline "console=ttyS0 quiet ckvm.test=clock ckvm.sleep=$SECS_SLEEP" \
	</dev/null 2>"$WORK/$T.stderr" |
	while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"; done > "$OUT"
RC=${PIPESTATUS[0]}
SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
res=$(awk -v bound="$BOUND_PPM" '
	$2 == "CKVM-CLOCK" {
		h = $1; s = $3; w = $5; m = $6
		if (!(s in off) || h - w < off[s]) { off[s] = h - w; host[s] = h }
		if (!(s in moff) || h - m < moff[s]) moff[s] = h - m
	}
	END {
		if (!("A" in off) || !("B" in off)) { print "missing samples"; exit 1 }
		span = host["B"] - host["A"]
		dw = (off["B"] - off["A"]) / span * 1e6
		dm = (moff["B"] - moff["A"]) / span * 1e6
		printf "over %.1f s: wall clock drift %+.1f ppm, monotonic drift %+.1f ppm (bound %d ppm)\n", span, dw, dm, bound
		if (dw < -bound || dw > bound || dm < -bound || dm > bound) exit 1
	}' "$OUT")
awk_rc=$?
echo "  clock: $res"
if [ "$RC" -ne 0 ]; then
	bad "exit status $RC"
elif [ "$awk_rc" -ne 0 ]; then
	bad "$res"
else
	ok "$res, ${SECS}s"
fi
