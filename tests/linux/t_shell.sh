# shell: the interactive default (no ckvm.test): commands typed on stdin reach the busybox shell;
# `uname -r; reboot -f` prints the release and ckvm exits 0.
OUT=$WORK/$T.serial
start=$(date +%s.%N)
printf 'uname -r; echo CKVM-SHELL-$((6*7)); reboot -f\n' |
	timeout -k 5 "$TIMEOUT" "$CKVM" run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" \
	--memory 128M --cmdline "console=ttyS0 quiet" >"$OUT" 2>"$WORK/$T.stderr"
RC=$?
SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
rel=$(cat "$CACHE/kernel.release")
if [ "$RC" -ne 0 ]; then
	bad "exit status $RC"
elif ! tr -d '\r' < "$OUT" | grep -qx "$rel"; then
	bad "no line with the kernel release $rel"
elif ! tr -d '\r' < "$OUT" | grep -qx "CKVM-SHELL-42"; then
	bad "the shell did not evaluate the typed command"
else
	ok "typed commands ran in the guest shell; ${SECS}s to prompt, command and reboot"
fi
