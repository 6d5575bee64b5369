# kaslr: with host-side decompression the kernel lands somewhere else on every boot, and nokaslr puts
# it at the default place (_text 0xffffffff81000000, physical "Kernel code" from 0x1000000). Two boots
# here, compared with the boot test's addresses (a third boot stands in when that test did not run).
addrs() { echo "$(marker CKVM-KTEXT) $(marker CKVM-KCODE)"; }
first=${BOOT_ADDRS:-}
if [ -z "$first" ]; then
	boot boot
	first=$(addrs)
fi
boot boot
second=$(addrs); rc2=$RC
CMDLINE_EXTRA=nokaslr
boot boot
CMDLINE_EXTRA=
third=$(addrs); rc3=$RC
set -- $first $second $third
if [ "$rc2" -ne 0 ] || [ "$rc3" -ne 0 ]; then
	bad "exit status $rc2 / $rc3 (expected 0)"
elif [ $# -ne 6 ]; then
	bad "addresses missing: '$first' / '$second' / '$third'"
elif [ "$first" = "$second" ]; then
	bad "two boots, same place: $first"
elif [ "$5" != ffffffff81000000 ] || [ "${6%%-*}" != 01000000 ]; then
	bad "nokaslr boot at _text $5, code $6 (expected ffffffff81000000, 01000000-)"
elif [ "$1 ${2%%-*}" = "ffffffff81000000 01000000" ] || [ "$3 ${4%%-*}" = "ffffffff81000000 01000000" ]; then
	bad "a KASLR boot at the default place: $first / $second"
else
	ok "_text/code: $1 $2, then $3 $4; nokaslr: $5 $6"
fi
