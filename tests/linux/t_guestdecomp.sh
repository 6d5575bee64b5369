# guestdecomp: the default guest with --kernel-decompress guest, i.e. the bzImage's own decompressor
# inflating (and randomizing) the kernel inside the VM, as before host-side decompression; the same
# markers as the boot test must appear and ckvm exit 0. Keeps the guest path covered.
boot boot --kernel-decompress guest
if [ "$RC" -ne 0 ]; then
	bad "exit status $RC (expected 0)"
elif ! why=$(in_order CKVM-RELEASE CKVM-UPTIME CKVM-NPROC CKVM-KTEXT CKVM-DONE); then
	bad "$why"
elif [ "$(marker CKVM-RELEASE)" != "$(cat "$CACHE/kernel.release")" ]; then
	bad "release '$(marker CKVM-RELEASE)' is not $(cat "$CACHE/kernel.release")"
elif grep -q 'host decompression' "$WORK/$T.stderr"; then
	bad "ckvm took the host path: $(head -n 1 "$WORK/$T.stderr")"
else
	ok "init at uptime $(marker CKVM-UPTIME)s, _text $(marker CKVM-KTEXT), code $(marker CKVM-KCODE), ${SECS}s wall"
	echo "  boot time (guest decompression): ${SECS} s from exec to exit; guest uptime at init $(marker CKVM-UPTIME) s"
fi
