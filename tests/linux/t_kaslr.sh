# kaslr: with host-side decompression the kernel lands somewhere else on every boot, and nokaslr puts
# it at the default place (_text 0xffffffff81000000, physical "Kernel code" from 0x1000000). No boot
# of its own: it runs the boot, configfile (both KASLR, host decompression) and gdb (nokaslr) tests
# here, each with its own PASS/FAIL line, and compares where init saw their kernels (CKVM-KTEXT and
# CKVM-KCODE, printed by ckvm.test=boot). One file, so that the three boots are in one lane and the
# check does not depend on the order of tests. The default list runs kaslr instead of the three.
addrs_of() {	# addrs_of TEST: "_text code-range" from that test's serial log
	local f=$WORK/$1.serial
	[ -f "$f" ] || return 0
	echo "$(sed -n 's/^CKVM-KTEXT //p' "$f" | tr -d '\r' | head -n 1) $(sed -n 's/^CKVM-KCODE //p' "$f" | tr -d '\r' | head -n 1)"
}
for sub in boot configfile gdb; do
	T=$sub
	# shellcheck source=/dev/null
	. "$HERE/t_$sub.sh"
done
T=kaslr
OUT=$WORK/boot.serial	# for bad()'s serial tail
first=$(addrs_of boot) second=$(addrs_of configfile) third=$(addrs_of gdb)
# shellcheck disable=SC2086
set -- $first $second $third
if [ $# -ne 6 ]; then
	bad "addresses missing: boot '$first' / configfile '$second' / gdb (nokaslr) '$third'"
elif [ "$first" = "$second" ]; then
	bad "two KASLR boots, same place: $first"
elif [ "$5" != ffffffff81000000 ] || [ "${6%%-*}" != 01000000 ]; then
	bad "nokaslr boot (gdb) at _text $5, code $6 (expected ffffffff81000000, 01000000-)"
elif [ "$1 ${2%%-*}" = "ffffffff81000000 01000000" ] || [ "$3 ${4%%-*}" = "ffffffff81000000 01000000" ]; then
	bad "a KASLR boot at the default place: $first / $second"
else
	ok "_text/code: $1 $2 (boot), then $3 $4 (configfile); nokaslr (gdb): $5 $6"
fi
