# shell: the interactive default (no ckvm.test). Once the guest's banner is on the console (its
# shell is starting), the test types `uname -r; echo ...; reboot -f` on ckvm's stdin; the guest
# must print the release and the evaluated echo, and ckvm exit 0. (Like QEMU, bytes typed before
# the guest's serial driver starts are dropped by the guest's own FIFO reset.)
OUT=$WORK/$T.serial
FIFO=$WORK/$T.stdin
mkfifo "$FIFO"
start=$(date +%s.%N)
timeout -k 5 "$TIMEOUT" "$CKVM" run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" \
	--memory 128M --cmdline "console=ttyS0 quiet" <"$FIFO" >"$OUT" 2>"$WORK/$T.stderr" &
VMPID=$!
exec 3>"$FIFO"
# Wait (bounded by the VM's own timeout) for the banner the init prints just before the shell.
while kill -0 "$VMPID" 2>/dev/null && ! grep -q "^busybox shell" "$OUT"; do
	sleep 0.2
done
PROMPT_SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
printf 'uname -r; echo CKVM-SHELL-$((6*7)); reboot -f\n' >&3
wait "$VMPID"
RC=$?
exec 3>&-
SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
rel=$(cat "$CACHE/kernel.release")
if [ "$RC" -ne 0 ]; then
	bad "exit status $RC"
elif ! tr -d '\r' < "$OUT" | grep -qx "$rel"; then
	bad "no line with the kernel release $rel"
elif ! tr -d '\r' < "$OUT" | grep -qx "CKVM-SHELL-42"; then
	bad "the shell did not evaluate the typed command"
else
	ok "shell banner after ${PROMPT_SECS}s; typed commands ran; exit 0 after ${SECS}s"
	echo "  time to shell prompt: ${PROMPT_SECS} s"
fi
