#!/bin/sh
# Exit-cost benchmark: ckvm against QEMU on this machine, same guest (bench/guest.S: N writes to an
# unclaimed I/O port, then the test-exit port). Not part of any test tier.
# Usage: bench/exit-bench.sh CKVM GUEST_ELF [N] [RUNS]     (defaults: N=200000, RUNS=3)
# Env: QEMU_ACCEL=kvm|tcg (default kvm, falls back to tcg if a KVM probe run fails).
# Reports per VMM (medians over RUNS): wall time exec -> exit for N=0 and N, time per exit from the
# wall-time difference and from the guest's own TSC count, peak RSS; then ckvm/QEMU ratios.
set -u
[ $# -ge 2 ] || { echo "usage: $0 CKVM GUEST_ELF [N] [RUNS]" >&2; exit 2; }
ckvm=$1; guest=$2; n=${3:-200000}; runs=${4:-3}
mem_mib=64
[ -r "$guest" ] || { echo "$0: $guest: not readable" >&2; exit 2; }
if [ ! -x /usr/bin/time ]; then
	echo "installing GNU time (apt-get install time)" >&2
	apt-get install -y time >/dev/null 2>&1 || { echo "$0: need /usr/bin/time" >&2; exit 2; }
fi
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

# Host TSC rate, to turn the guest's cycle count into time (KVM guests see the host's TSC rate).
tsc_mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | head -n 1)
[ -n "$tsc_mhz" ] || tsc_mhz=$(sed -n 's/^cpu MHz[^:]*: *//p' /proc/cpuinfo | head -n 1)

qemu_accel=${QEMU_ACCEL:-kvm}
for v in ckvm qemu; do echo "0 nan nan 0 nan" > "$work/$v.res"; done

# run_one VMM N: one run; prints "wall_ms rss_kib cycles status" (cycles - if the guest said nothing)
run_one() {
	vmm=$1; count=$2; out=$work/serial; : > "$out"
	if [ "$vmm" = ckvm ]; then
		set -- "$ckvm" run --kernel "$guest" --test-exit --memory ${mem_mib}M --cmdline "n=$count" \
			--serial "file=$out"
	else
		set -- qemu-system-x86_64 -accel "$qemu_accel" -machine pc -m ${mem_mib}M -display none \
			-no-reboot -monitor none -serial "file:$out" \
			-device isa-debug-exit,iobase=0x501,iosize=2 -kernel "$guest" -append "n=$count"
	fi
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$work/time" timeout 300 "$@" </dev/null >/dev/null 2>"$work/stderr"
	st=$?
	t1=$(date +%s%N)
	rss=$(tail -n 1 "$work/time")
	case $rss in ''|*[!0-9]*) rss=0 ;; esac
	cyc=$(sed -n 's/^cycles=\([0-9]*\) n=.*/\1/p' "$out" | head -n 1)
	echo "$(( (t1 - t0) / 1000000 )) $rss ${cyc:--} $st"
}

median() { sort -n | awk '{v[NR] = $1} END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench VMM: RUNS runs at N=0 and at N; writes "ok wall0_ms wallN_ms peak_rss_kib cyclesN" (medians,
# RSS the maximum) to $work/VMM.res
bench() {
	vmm=$1; ok=1; : > "$work/r0"; : > "$work/rn"
	i=0
	while [ $i -lt "$runs" ]; do
		for count in 0 "$n"; do
			r=$(run_one "$vmm" "$count")
			set -- $r	# split "wall rss cycles status"
			echo "  $vmm n=$count run $((i + 1)): wall $1 ms, peak RSS $2 KiB, guest cycles $3, exit status $4" >&2
			if [ "$4" -ne 1 ] || [ "$3" = - ]; then
				ok=0; sed 's/^/    stderr: /' "$work/stderr" | head -n 3 >&2
			fi
			if [ "$count" = 0 ]; then echo "$r" >> "$work/r0"; else echo "$r" >> "$work/rn"; fi
		done
		i=$((i + 1))
	done
	echo "$ok $(cut -d' ' -f1 "$work/r0" | median) $(cut -d' ' -f1 "$work/rn" | median)" \
		"$(cut -d' ' -f2 "$work/r0" "$work/rn" | sort -n | tail -n 1)" \
		"$(cut -d' ' -f3 "$work/rn" | grep -v -- - | median)" > "$work/$vmm.res"
}

echo "exit-bench: N=$n writes to unclaimed port 0x1234, $runs runs per point, guest RAM $mem_mib MiB," \
	"host TSC ${tsc_mhz:-?} MHz"
if [ -x "$ckvm" ]; then
	bench ckvm
else
	echo "ckvm: $ckvm not executable, skipped" >&2
fi
if [ "$qemu_accel" = kvm ]; then
	set -- $(run_one qemu 0)	# split "wall rss cycles status"
	if [ "$4" -ne 1 ] || [ "$3" = - ]; then
		echo "QEMU with -accel kvm failed here (status $4); falling back to -accel tcg" >&2
		qemu_accel=tcg
	fi
fi
bench qemu

report() {
	vmm=$1; read -r ok w0 wn rss cyc < "$work/$vmm.res"
	[ "$ok" = 1 ] || { printf '%-5s (runs failed, see above)\n' "$vmm"; return; }
	awk -v v="$vmm" -v w0="$w0" -v wn="$wn" -v rss="$rss" -v cyc="$cyc" -v n="$n" -v mhz="${tsc_mhz:-0}" \
		-v mem="$mem_mib" -v acc="$2" 'BEGIN {
		pe_wall = (wn - w0) * 1000 / n
		pe_tsc = (mhz > 0 && cyc != "nan") ? cyc / n / mhz : -1
		printf "%-5s %-4s wall(N=0) %7.0f ms  wall(N) %7.0f ms  per exit: %6.2f us (wall diff) %6.2f us (guest TSC)  peak RSS %6.1f MiB (minus guest RAM: %+.1f MiB)\n",
			v, acc, w0, wn, pe_wall, pe_tsc, rss / 1024, rss / 1024 - mem
	}'
}
echo "results (medians of $runs runs):"
report ckvm kvm
report qemu "$qemu_accel"
read -r ckvm_ok ckvm_w0 ckvm_wn ckvm_rss ckvm_cyc < "$work/ckvm.res"
read -r qemu_ok qemu_w0 qemu_wn qemu_rss qemu_cyc < "$work/qemu.res"
if [ "$ckvm_ok" = 1 ] && [ "$qemu_ok" = 1 ]; then
	awk -v a0="$ckvm_w0" -v an="$ckvm_wn" -v ar="$ckvm_rss" -v ac="$ckvm_cyc" \
	    -v b0="$qemu_w0" -v bn="$qemu_wn" -v br="$qemu_rss" -v bc="$qemu_cyc" -v acc="$qemu_accel" 'BEGIN {
		r = (bn - b0) > 0 ? sprintf("%.3fx", (an - a0) / (bn - b0)) : "n/a (QEMU startup noise > exit time)"
		printf "ckvm/QEMU(%s): startup wall %.3fx, per exit (wall diff) %s, per exit (guest TSC) %.3fx, peak RSS %.3fx\n",
			acc, a0 / b0, r, ac / bc, ar / br
	}'
fi
[ "$ckvm_ok" = 1 ] && [ "$qemu_ok" = 1 ]
