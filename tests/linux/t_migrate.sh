# migrate: the default guest's shell runs a loop printing SEQ-n every second; the running VM is
# live-migrated over a unix socket (ckvm ctl migrate) to a second ckvm started with --incoming and
# the same options. The source must exit 0 after the destination confirmed; on the destination the
# loop must go on (no number missing or repeated across the two consoles), the shell must answer a
# typed line (the UART and its interrupt came over), `poweroff -f` must end it with status 0, and
# no stall report. No disk or NIC (the API tier covers a shared disk's lock handover).
S=$WORK/mig.api.sock
M=$WORK/mig.sock
OUT=$WORK/$T.serial
OUT2=$WORK/$T.dest.serial
FIFO=$WORK/$T.stdin
FIFO2=$WORK/$T.stdin2
FAILS=
rm -f "$FIFO" "$FIFO2" "$S" "$M"
mkfifo "$FIFO" "$FIFO2"
seqs() { tr -d '\r' < "$1" | grep -c 'SEQ-[0-9]*$'; }
wait_for() {	# wait_for SECONDS COMMAND...: until it succeeds or the VM ends
	local end=$(( $(date +%s) + $1 ))
	shift
	while ! "$@"; do
		kill -0 "$VMPID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}
has_in() { tr -d '\r' < "$1" | grep -q "$2"; }
ARGS=(run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" --memory 128M
      --cmdline "console=ttyS0 ckvm.test=shell quiet")
# the destination waits first (nothing runs there until the stream is complete)
"$CKVM" "${ARGS[@]}" --incoming "unix:$M" <"$FIFO2" >"$OUT2" 2>"$WORK/$T.stderr2" &
DPID=$!
exec 4>"$FIFO2"
"$CKVM" "${ARGS[@]}" --api-sock "$S" <"$FIFO" >"$OUT" 2>"$WORK/$T.stderr" &
VMPID=$!
exec 3>"$FIFO"
if ! wait_for "$TIMEOUT" has_in "$OUT" '^busybox shell'; then
	bad "no shell banner"
	kill -KILL "$VMPID" "$DPID" 2>/dev/null; wait "$VMPID" "$DPID" 2>/dev/null
	exec 3>&- 4>&-
else
	printf 'i=0; while :; do i=$((i+1)); echo "SEQ-$i"; sleep 1; done &\n' >&3
	wait_for 120 eval '[ "$(seqs "$OUT")" -ge 3 ]' || FAILS="$FAILS [no SEQ lines]"
	"$CKVM" ctl --api-sock "$S" migrate --to "unix:$M" >/dev/null 2>>"$WORK/$T.ctl" ||
		FAILS="$FAILS [migrate failed: $(cat "$WORK/$T.ctl")]"
	for _ in $(seq 600); do kill -0 "$VMPID" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$VMPID" 2>/dev/null
	wait "$VMPID"; SRC_RC=$?
	exec 3>&-
	[ "$SRC_RC" -eq 0 ] || FAILS="$FAILS [source exit status $SRC_RC: $(grep migrat "$WORK/$T.stderr" | tail -n 2)]"
	n1=$(seqs "$OUT")
	MIGLINE=$(grep -o 'migrated to .*' "$WORK/$T.stderr" | sed 's/.*: //')
	VMPID=$DPID
	wait_for 120 eval '[ "$(seqs "$OUT2")" -ge 3 ]' || FAILS="$FAILS [no SEQ lines on the destination]"
	printf 'echo "TYPED-$((6 * 7))"\n' >&4
	wait_for 120 has_in "$OUT2" '^TYPED-42' || FAILS="$FAILS [the migrated shell did not answer a typed line]"
	printf 'kill $!; poweroff -f\n' >&4
	for _ in $(seq 600); do kill -0 "$VMPID" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$VMPID" 2>/dev/null
	wait "$VMPID"
	RC=$?
	exec 4>&-
	SEQ=$(cat "$OUT" "$OUT2" | tr -d '\r' | sed -n 's/^.*SEQ-\([0-9]*\)$/\1/p' |
	      awk '{ if ($1 != n + 1) { print "after " n + 0 " came " $1; exit } n = $1 }')
	if [ "$RC" -ne 0 ]; then
		bad "destination: exit status $RC$FAILS $(head -c 300 "$WORK/$T.stderr2")"
	elif [ -n "$FAILS" ]; then
		bad "$FAILS"
	elif [ -n "$SEQ" ]; then
		bad "sequence broken across the migration: $SEQ"
	elif tr -d '\r' < "$OUT2" | grep -Eiq 'rcu.*stall|soft lockup|hung task'; then
		bad "a stall report after the migration: $(tr -d '\r' < "$OUT2" | grep -Ei 'rcu.*stall|soft lockup|hung task' | head -n 2)"
	else
		ok "SEQ 1..$n1 on the source, $(seqs "$OUT2") more on the destination with none missing or repeated; $MIGLINE; typed line answered; poweroff exit 0"
	fi
fi
