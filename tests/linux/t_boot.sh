# boot: the default guest (bzImage, inflated by the host: the default) reaches init, which prints
# release, uptime, CPU model, RTC date, CPU count and the kernel's addresses in that order and
# reboots; ckvm exits 0. Init first signals --boot-timer, whose line must appear. Prints the boot
# time and where KASLR put the kernel.
boot boot --boot-timer
if [ "$RC" -ne 0 ]; then
	bad "exit status $RC (expected 0)"
elif ! why=$(in_order CKVM-RELEASE CKVM-UPTIME CKVM-CPU CKVM-RTC CKVM-NPROC CKVM-KTEXT CKVM-KCODE CKVM-DONE); then
	bad "$why"
elif ! BT=$(grep -o 'guest boot time [0-9.]* ms since exec' "$WORK/$T.stderr"); then
	bad "no boot-timer line from --boot-timer (init runs bootmark first)"
elif [ "$(marker CKVM-RELEASE)" != "$(cat "$CACHE/kernel.release")" ]; then
	bad "release '$(marker CKVM-RELEASE)' is not $(cat "$CACHE/kernel.release")"
elif [ "$(marker CKVM-RTC | cut -c1-10)" != "$(date -u +%Y-%m-%d)" ] &&
     [ "$(marker CKVM-RTC | cut -c1-10)" != "$(date -u -d '-1 min' +%Y-%m-%d)" ]; then
	bad "RTC date '$(marker CKVM-RTC)' is not today"
else
	ok "kernel $(marker CKVM-RELEASE), init at uptime $(marker CKVM-UPTIME)s, whole boot+reboot ${SECS}s wall"
	echo "  boot time: ${SECS} s from exec to exit; guest uptime at init $(marker CKVM-UPTIME) s; $BT"
	echo "  kernel at _text $(marker CKVM-KTEXT), physical code $(marker CKVM-KCODE)"
fi
