#!/bin/bash
# `ckvm test` against the equivalent QEMU invocation on the same guest (tests/cli/pvh_f4.elf: a PVH
# kernel both boot with -kernel; it prints two lines and writes 0x10 to port 0xf4):
#   (a) ckvm test --kernel G                                   (ends through the 0xf4 port: 33)
#   (b) ckvm test --kernel G --expect 'boot: ok' --expect 'selftest: .* passed' --report junit:F
#                                                              (ends when the matcher passes: 0)
#   (c) qemu-system-x86_64 -accel kvm -nographic -no-reboot -net none -kernel G
#       -device isa-debug-exit,iobase=0xf4,iosize=4            (33)
#   (d) the same with -accel tcg                               (33)
# and on a boot sector (tests/cli/tm_vga.img: writes VGA text, prints, dword 0x21 to port 0xf4)
# through SeaBIOS, when /usr/share/seabios/bios.bin is there:
#   (e) ckvm test --bios --disk path=IMG --expect 'vga written' --screen-dump F   (0)
#   (f) qemu-system-x86_64 -accel tcg -nographic -no-reboot -net none -drive file=IMG,format=raw,if=ide
#       -device isa-debug-exit,iobase=0xf4,iosize=4            (67)
#   (g) the same with -accel kvm                               (67)
# Wall time from exec to exit, RUNS rounds interleaved, medians and ratios to (a). A run that does
# not end with its expected status within TIMEOUT seconds is reported as such (QEMU's KVM mode
# cannot run this guest on a software-KVM host). Not part of any test tier.
# Usage: bench/testmode.sh [CKVM [GUEST [IMG]]]   Env: RUNS (default 10), BIOS_RUNS (default 3),
#        TIMEOUT (default 20; 60 for the firmware boots).
set -u
ckvm=$(realpath "${1:-build/ckvm}")
guest=$(realpath "${2:-build/tests/cli/pvh_f4.elf}")
img=$(realpath "${3:-build/tests/cli/tm_vga.img}")
runs=${RUNS:-10}
bios_runs=${BIOS_RUNS:-3}
limit=${TIMEOUT:-20}
bios_limit=${TIMEOUT:-60}
for f in "$ckvm" "$guest"; do
	[ -e "$f" ] || { echo "$0: $f missing (make; make build/tests/cli/pvh_f4.elf)" >&2; exit 2; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "$0: qemu-system-x86_64 missing" >&2; exit 2; }
work=$(mktemp -d /tmp/ckvm-testmode-bench.XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
qemu=(qemu-system-x86_64 -nographic -no-reboot -net none -m 128M -kernel "$guest"
      -device isa-debug-exit,iobase=0xf4,iosize=4)
qemu_img=(qemu-system-x86_64 -nographic -no-reboot -net none -m 128M
	  -drive "file=$work/disk.img,format=raw,if=ide" -device isa-debug-exit,iobase=0xf4,iosize=4)
names=(a b c d)
declare -A want=([a]=33 [b]=0 [c]=33 [d]=33 [e]=0 [f]=67 [g]=67)
declare -A label=([a]="ckvm test (test-exit 0xf4)" [b]="ckvm test --expect x2 --report junit"
		  [c]="qemu -accel kvm" [d]="qemu -accel tcg" [e]="ckvm test --bios (boot sector)"
		  [f]="qemu -accel tcg (boot sector)" [g]="qemu -accel kvm (boot sector)")

# one NAME: one run, its wall time in ms appended to $work/NAME, or "-" if it failed
one() {
	local t0 t1 rc
	t0=$(date +%s%N)
	case $1 in
	a) timeout -k 2 "$limit" "$ckvm" test --kernel "$guest" ;;
	b) timeout -k 2 "$limit" "$ckvm" test --kernel "$guest" --expect 'boot: ok' \
		--expect 'selftest: .* passed' --report "junit:$work/r.xml" ;;
	c) timeout -k 2 "$limit" "${qemu[@]}" -accel kvm ;;
	d) timeout -k 2 "$limit" "${qemu[@]}" -accel tcg ;;
	e) timeout -k 2 "$bios_limit" "$ckvm" test --bios --disk "path=$work/disk.img" --expect 'vga written' \
		--screen-dump "$work/screen.txt" ;;
	f) timeout -k 2 "$bios_limit" "${qemu_img[@]}" -accel tcg ;;
	g) timeout -k 2 "$bios_limit" "${qemu_img[@]}" -accel kvm ;;
	esac </dev/null >/dev/null 2>&1
	rc=$?
	t1=$(date +%s%N)
	if [ "$rc" -eq "${want[$1]}" ]; then echo $(( (t1 - t0) / 1000000 )) >> "$work/$1"
	else echo "- $rc" >> "$work/$1"; fi
}

for ((r = 0; r < runs; r++)); do
	# rotate the order each round, so no configuration always runs first
	for ((i = 0; i < 4; i++)); do one "${names[$(( (i + r) % 4 ))]}"; done
done
if [ -e /usr/share/seabios/bios.bin ] && [ -e "$img" ]; then
	cp "$img" "$work/disk.img" || exit 2
	fw=(e f g)
	for ((r = 0; r < bios_runs; r++)); do
		for ((i = 0; i < 3; i++)); do one "${fw[$(( (i + r) % 3 ))]}"; done
	done
	names+=(e f g)
fi

median() { grep -v '^-' "$1" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
base=$(median "$work/a")
[ -e "$work/e" ] && base_fw=$(median "$work/e")
printf "%-40s %10s %8s %s\n" "configuration" "median ms" "vs a/e" "runs ok"
for n in "${names[@]}"; do
	m=$(median "$work/$n"); okn=$(grep -vc '^-' "$work/$n")
	total=$runs; case $n in e|f|g) total=$bios_runs ;; esac
	if [ -z "$m" ]; then
		printf "%-40s %10s %8s %s/%s (%s)\n" "(${n}) ${label[$n]}" "-" "-" "$okn" "$total" \
			"$(grep '^-' "$work/$n" | head -n 1 | sed 's/^- /status /; s/status 124/no exit within '"$limit"' s/')"
	else
		printf "%-40s %10s %8s %s/%s\n" "(${n}) ${label[$n]}" "$m" \
			"$(awk -v a="$(case $n in e|f|g) echo "${base_fw:-0}" ;; *) echo "$base" ;; esac)" -v b="$m" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')" "$okn" "$total"
	fi
done
