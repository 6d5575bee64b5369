#!/bin/sh
# Exit-cost benchmark: ckvm against the floor (bench/rawloop.c: nothing but KVM_RUN and the exit) and
# QEMU on this machine, same guest (bench/guest.S: N port writes, or N MMIO writes, each one exit to
# user space, timed by the guest's TSC). Not part of any test tier.
# Usage: bench/exit-bench.sh CKVM GUEST_ELF [N] [RUNS]      (defaults: N=100000, RUNS=5)
# Env: RAWLOOP=path (default: rawloop beside GUEST_ELF), QEMU_ACCEL=kvm|tcg|none (default kvm, falls
#      back to tcg if a KVM probe run fails; none skips QEMU).
# Runs are interleaved (raw, raw+irqchip, ckvm, QEMU, then again) so host noise hits all alike; each
# figure is the median over RUNS, with the minimum beside it. Reported per VMM: µs per PIO exit and per
# MMIO exit, by the guest's TSC and by the VMM's CPU time (user+sys, less an empty run's: steadier on a
# busy host), start-up (exec -> first KVM_RUN: ckvm's --verbose timeline, rawloop's own line; QEMU has
# neither, so for all three also the wall time exec -> exit of an N=0 run) and peak RSS.
set -u
[ $# -ge 2 ] || { echo "usage: $0 CKVM GUEST_ELF [N] [RUNS]" >&2; exit 2; }
ckvm=$1; guest=$2; n=${3:-100000}; runs=${4:-5}
raw=${RAWLOOP:-$(dirname "$guest")/rawloop}
mem_mib=64
qemu_accel=${QEMU_ACCEL:-kvm}
[ -r "$guest" ] || { echo "$0: $guest: not readable" >&2; exit 2; }
[ -x "$ckvm" ] || { echo "$0: $ckvm: not executable" >&2; exit 2; }
[ -x "$raw" ] || { echo "$0: $raw: not executable (make bench builds it)" >&2; exit 2; }
if [ ! -x /usr/bin/time ]; then
	echo "installing GNU time (apt-get install time)" >&2
	apt-get install -y time >/dev/null 2>&1 || { echo "$0: need /usr/bin/time" >&2; exit 2; }
fi
command -v qemu-system-x86_64 >/dev/null || qemu_accel=none
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
res=$work/results; : > "$res"

# Host TSC rate, to turn the guest's cycle count into time (KVM guests see the host's TSC rate).
tsc_mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | head -n 1)
[ -n "$tsc_mhz" ] || tsc_mhz=$(sed -n 's/^cpu MHz[^:]*: *//p' /proc/cpuinfo | head -n 1)

# run_one VMM CMDLINE: one run; prints "status wall_ms rss_kib cycles startup_ms cpu_s" (- when unknown).
run_one() {
	vmm=$1; cmdl=$2; out=$work/serial; : > "$out"
	case $vmm in
	raw)	set -- "$raw" "$guest" "$cmdl" ;;
	rawirq)	set -- "$raw" "$guest" "$cmdl" --irqchip ;;
	ckvm)	set -- "$ckvm" run --kernel "$guest" --test-exit --memory ${mem_mib}M --cmdline "$cmdl"
		[ "$cmdl" = n=0 ] && set -- "$@" --verbose ;;
	qemu)	set -- qemu-system-x86_64 -accel "$qemu_accel" -machine pc -m ${mem_mib}M -display none \
			-no-reboot -monitor none -device isa-debug-exit,iobase=0x501,iosize=2 \
			-kernel "$guest" -append "$cmdl" ;;
	esac
	case $vmm in
	ckvm)	set -- "$@" --serial "file=$out"; stdout=/dev/null ;;
	qemu)	set -- "$@" -serial "file:$out"; stdout=/dev/null ;;
	*)	stdout=$out ;;
	esac
	t0=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$work/time" timeout 300 "$@" </dev/null >"$stdout" 2>"$work/stderr"
	st=$?
	t1=$(date +%s%N)
	set -- $(tail -n 1 "$work/time") - - -
	rss=$1; cpu=$(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')
	case $rss in ''|*[!0-9]*) rss=-; cpu=- ;; esac
	cyc=$(sed -n 's/^cycles=\([0-9]*\) n=.*/\1/p' "$out" | head -n 1)
	start=$(sed -n -e 's/.*timeline: debug: +\([0-9.]*\) ms first KVM_RUN.*/\1/p' \
		-e 's/^rawloop: exec->first KVM_RUN \([0-9]*\) us/\1e-3/p' "$work/stderr" | head -n 1)
	[ -n "$start" ] && start=$(awk -v s="$start" 'BEGIN { printf "%.3f", s + 0 }')
	echo "$st $(( (t1 - t0) / 1000000 )) $rss ${cyc:--} ${start:--} $cpu"
}

# measure VMM MODE: one run of MODE (pio, mmio: N exits; start: N=0) into $res as "VMM METRIC VALUE".
measure() {
	vmm=$1; mode=$2
	case $mode in pio) cmdl=n=$n ;; mmio) cmdl=mmio=$n ;; start) cmdl=n=0 ;; esac
	r=$(run_one "$vmm" "$cmdl")
	set -- $r	# split "status wall rss cycles start cpu"
	echo "  $vmm $mode: exit status $1, wall $2 ms, peak RSS $3 KiB, guest cycles $4," \
		"exec->first KVM_RUN $5 ms, CPU $6 s" >&2
	if [ "$1" -ne 1 ] || [ "$4" = - ]; then
		echo "$vmm fail 1" >> "$res"
		sed 's/^/    stderr: /' "$work/stderr" | head -n 3 >&2
		return
	fi
	echo "$vmm rss $3" >> "$res"
	echo "$vmm ${mode}_cpu $6" >> "$res"
	case $mode in
	start)	echo "$vmm wall0 $2" >> "$res"
		[ "$5" = - ] || echo "$vmm startup $5" >> "$res" ;;
	*)	awk -v v="$vmm" -v m="$mode" -v c="$4" -v n="$n" -v mhz="$tsc_mhz" \
			'BEGIN { if (mhz > 0) printf "%s %s %.3f\n", v, m, c / n / mhz }' >> "$res" ;;
	esac
}

if [ "$qemu_accel" = kvm ]; then
	set -- $(run_one qemu n=0)
	if [ "$1" -ne 1 ] || [ "$4" = - ]; then
		echo "QEMU with -accel kvm failed here (status $1); falling back to -accel tcg" >&2
		qemu_accel=tcg
	fi
fi
vmms="raw rawirq ckvm"
[ "$qemu_accel" = none ] || vmms="$vmms qemu"
echo "exit-bench: N=$n exits per run (port 0x1234 / MMIO 0xd0000000), $runs interleaved runs, guest RAM" \
	"$mem_mib MiB, host TSC ${tsc_mhz:-?} MHz, QEMU -accel $qemu_accel"
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	echo "run $i of $runs" >&2
	for mode in pio mmio start; do
		for vmm in $vmms; do
			measure "$vmm" "$mode"
		done
	done
done

# The table: medians (minimum in brackets), RSS median (maximum); then the ratios against ckvm.
awk -v vmms="$vmms" -v acc="$qemu_accel" -v n="$n" '
function med(k,   c, i, j, t, a) {
	c = cnt[k]; if (!c) return -1
	for (i = 1; i <= c; i++) a[i] = val[k, i]
	for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	mn[k] = a[1]; mx[k] = a[c]
	return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
# CPU time per exit: (median CPU of the N runs - median CPU of the empty runs) / N; "-" when the
# empty run is too big a share to subtract (QEMU: seconds of emulated firmware, varying more than N exits)
function cpu(v, m,   a, b) {
	a = med(v SUBSEP m "_cpu"); b = med(v SUBSEP "start_cpu")
	return a < 0 || b < 0 || b > 0.2 * a ? -1 : (a - b) * 1e6 / n
}
function cell(k, w,   m) {
	m = med(k)
	return sprintf("%-" w "s", m < 0 ? "-" : sprintf("%.2f (%.2f)", m, mn[k]))
}
function num(x, w) { return sprintf("%-" w "s", x < 0 ? "-" : sprintf("%.2f", x)) }
function ratio(a, b) { return a > 0 && b > 0 ? sprintf("%.3fx", a / b) : "-" }
{ k = $1 SUBSEP $2; val[k, ++cnt[k]] = $3 }
END {
	name["raw"] = "raw loop"; name["rawirq"] = "raw + irqchip"; name["ckvm"] = "ckvm"; name["qemu"] = "QEMU (" acc ")"
	printf "%-15s %-27s %-27s %-16s %-9s %s\n", "", "us per PIO exit", "us per MMIO exit", "exec->1st", "wall", "peak RSS"
	printf "%-15s %-13s %-13s %-13s %-13s %-16s %-9s %s\n", "", "guest TSC", "CPU", "guest TSC", "CPU", "KVM_RUN (ms)",
		"N=0 (ms)", "MiB (max)"
	nv = split(vmms, vs, " ")
	for (i = 1; i <= nv; i++) {
		v = vs[i]
		if (cnt[v SUBSEP "fail"]) { printf "%-15s (%d runs failed, see above)\n", name[v], cnt[v SUBSEP "fail"]; continue }
		rss = med(v SUBSEP "rss")
		printf "%-15s %s %s %s %s %s %-9.0f %.2f (%.2f)\n", name[v], cell(v SUBSEP "pio", 13), num(cpu(v, "pio"), 13),
			cell(v SUBSEP "mmio", 13), num(cpu(v, "mmio"), 13), cell(v SUBSEP "startup", 16),
			med(v SUBSEP "wall0"), rss / 1024, mx[v SUBSEP "rss"] / 1024
	}
	for (i = 1; i <= nv; i++) {
		v = vs[i]; if (v == "ckvm" || cnt[v SUBSEP "fail"] || cnt["ckvm" SUBSEP "fail"]) continue
		printf "ckvm / %-14s PIO %s (min %s, CPU %s)  MMIO %s (min %s, CPU %s)", name[v],
			ratio(med("ckvm" SUBSEP "pio"), med(v SUBSEP "pio")), ratio(mn["ckvm" SUBSEP "pio"], mn[v SUBSEP "pio"]),
			ratio(cpu("ckvm", "pio"), cpu(v, "pio")),
			ratio(med("ckvm" SUBSEP "mmio"), med(v SUBSEP "mmio")), ratio(mn["ckvm" SUBSEP "mmio"], mn[v SUBSEP "mmio"]),
			ratio(cpu("ckvm", "mmio"), cpu(v, "mmio"))
		if (v == "qemu") printf "  wall N=0 %s  peak RSS %s", ratio(med("ckvm" SUBSEP "wall0"), med(v SUBSEP "wall0")),
			ratio(med("ckvm" SUBSEP "rss"), med(v SUBSEP "rss"))
		printf "\n"
	}
	printf "guest TSC: the loop timed by the guest (median, minimum in brackets). CPU: the VMM process'"'"'s user+sys\n"
	printf "time per exit, less that of an empty run (10 ms resolution): robust when the host is busy.\n"
	printf "raw + irqchip adds KVM'"'"'s in-kernel PIC/IOAPIC/PIT, which ckvm needs for Linux guests: the like-for-like floor.\n"
	printf "Peak RSS: the guest touches ~0.1 MiB of its 64 MiB, so this is the VMM'"'"'s own (for ckvm ~1.5 MiB of it\n"
	printf "is shared libc/ld.so pages). wall N=0: exec -> exit of an empty run; with an in-kernel irqchip, tearing\n"
	printf "the VM down costs ~25 ms of it on this host (compare raw loop and raw + irqchip).\n"
}' "$res"
! grep -q ' fail ' "$res"
