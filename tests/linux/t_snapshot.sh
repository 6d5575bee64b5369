# snapshot: the default guest's shell runs a loop printing SEQ-n every second; the VM is paused and
# snapshotted through the API (ckvm ctl snapshot), ckvm is killed (SIGKILL), and a new ckvm restores
# it (--restore, same options): the loop must go on at the next number (none missing or repeated),
# the shell must still take input (a line typed after the restore is answered: the UART and its
# interrupt came back), `poweroff -f` must end the restored VM with status 0, and no stall report.
# No disk or NIC: their virtio state is the vdevstate branch's (the guest would need nothing more,
# its shell mode suffices).
S=$WORK/snap.sock
OUT=$WORK/$T.serial
OUT2=$WORK/$T.restored.serial
FIFO=$WORK/$T.stdin
FIFO2=$WORK/$T.stdin2
FAILS=
rm -f "$FIFO" "$FIFO2" "$S"
mkfifo "$FIFO" "$FIFO2"
# SEQ-n lines; the first may follow the shell's prompt on its line
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
start=$(date +%s.%N)
# ckvm itself in the background (no `timeout` around it): SIGKILL must reach ckvm, not a wrapper.
# Every wait below is bounded.
"$CKVM" "${ARGS[@]}" --api-sock "$S" <"$FIFO" >"$OUT" 2>"$WORK/$T.stderr" &
VMPID=$!
exec 3>"$FIFO"
if ! wait_for "$TIMEOUT" has_in "$OUT" '^busybox shell'; then
	bad "no shell banner"
	kill -KILL "$VMPID" 2>/dev/null; wait "$VMPID" 2>/dev/null
	exec 3>&-
else
	printf 'i=0; while :; do i=$((i+1)); echo "SEQ-$i"; sleep 1; done &\n' >&3
	wait_for 120 eval '[ "$(seqs "$OUT")" -ge 3 ]' || FAILS="$FAILS [no SEQ lines]"
	"$CKVM" ctl --api-sock "$S" pause >/dev/null 2>>"$WORK/$T.ctl" || FAILS="$FAILS [pause failed]"
	snap_start=$(date +%s.%N)
	"$CKVM" ctl --api-sock "$S" snapshot --to "$WORK/snap" >/dev/null 2>>"$WORK/$T.ctl" ||
		FAILS="$FAILS [snapshot failed: $(cat "$WORK/$T.ctl")]"
	SNAP_MS=$(printf '%.0f' "$(echo "($(date +%s.%N) - $snap_start) * 1000" | bc)")
	kill -KILL "$VMPID"; wait "$VMPID" 2>/dev/null
	OLDPID=$VMPID
	exec 3>&-
	n1=$(seqs "$OUT")
	rstart=$(date +%s.%N)
	kill -0 "$OLDPID" 2>/dev/null && FAILS="$FAILS [the snapshotted ckvm survived SIGKILL]"
	"$CKVM" "${ARGS[@]}" --restore "$WORK/snap" <"$FIFO2" >"$OUT2" 2>"$WORK/$T.stderr2" &
	VMPID=$!
	exec 3>"$FIFO2"
	wait_for 120 eval '[ "$(seqs "$OUT2")" -ge 3 ]' || FAILS="$FAILS [no SEQ lines after the restore]"
	FIRST_S=$(printf '%.1f' "$(echo "$(date +%s.%N) - $rstart" | bc)")
	printf 'echo "TYPED-$((6 * 7))"\n' >&3
	wait_for 120 has_in "$OUT2" '^TYPED-42' || FAILS="$FAILS [the restored shell did not answer a typed line]"
	printf 'kill $!; poweroff -f\n' >&3
	# poweroff at emulated speed, bounded; then the restored VM goes whatever happened
	for _ in $(seq 600); do kill -0 "$VMPID" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$VMPID" 2>/dev/null
	wait "$VMPID"
	RC=$?
	exec 3>&-
	SEQ=$(cat "$OUT" "$OUT2" | tr -d '\r' | sed -n 's/^.*SEQ-\([0-9]*\)$/\1/p' |
	      awk '{ if ($1 != n + 1) { print "after " n + 0 " came " $1; exit } n = $1 }')
	if [ "$RC" -ne 0 ]; then
		bad "restored VM: exit status $RC$FAILS $(head -c 300 "$WORK/$T.stderr2")"
	elif [ -n "$FAILS" ]; then
		bad "$FAILS"
	elif [ -n "$SEQ" ]; then
		bad "sequence broken across the restore: $SEQ"
	elif tr -d '\r' < "$OUT2" | grep -Eiq 'rcu.*stall|soft lockup|hung task'; then
		bad "a stall report after the restore: $(tr -d '\r' < "$OUT2" | grep -Ei 'rcu.*stall|soft lockup|hung task' | head -n 2)"
	else
		ok "SEQ 1..$n1 before, $(seqs "$OUT2") more after the restore with none missing or repeated; snapshot ${SNAP_MS} ms ($(du -k "$WORK/snap/mem" | cut -f1) KiB of RAM on disk), 3 lines ${FIRST_S}s after the restore's exec; typed line answered; poweroff exit 0"
	fi
fi
