#!/bin/bash
# Boot benchmark: the default guest (guest/build.sh) booted to its init's first marker, one run each of
#   (a) ckvm, bzImage, payload inflated on the host (--kernel-decompress host, the default)
#   (b) ckvm, bzImage, payload inflated by the guest's own decompressor (--kernel-decompress guest)
#   (c) ckvm, vmlinux (ELF, PVH entry)
#   (d) QEMU, bzImage (-accel tcg by default: QEMU's KVM mode cannot boot Linux on a software-KVM host)
# Reports host wall time from exec to the kernel's "Run /init" line and to the first userspace marker
# (CKVM-RELEASE), to exit, and the ratios. Not part of any test tier; runs one VM at a time. The
# four boots are repeated RUNS times, interleaved in a balanced order (one boot of the emulated
# kernel varies by +-15% with what else the host runs), and the medians reported.
# Usage: bench/boot-bench.sh [CKVM]   Env: CKVM_CACHE (default /var/cache/ckvm), QEMU_ACCEL (tcg),
#        MEM (128M), TIMEOUT per boot (600 s), RUNS (4: one full balanced square).
set -u
ckvm=$(realpath "${1:-build/ckvm}")
cache=${CKVM_CACHE:-/var/cache/ckvm}
mem=${MEM:-128M}
timeout=${TIMEOUT:-600}
accel=${QEMU_ACCEL:-tcg}
runs=${RUNS:-4}
for f in "$ckvm" "$cache/bzImage" "$cache/vmlinux" "$cache/initramfs.cpio"; do
	[ -e "$f" ] || { echo "$0: $f missing (make; guest/build.sh)" >&2; exit 2; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "$0: qemu-system-x86_64 missing (scripts/deps.sh bench)" >&2; exit 2; }
work=$(mktemp -d /tmp/ckvm-boot-bench.XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
append="console=ttyS0 ckvm.test=boot"

# run NAME CMD...: run one VM with its console on stdout, each line stamped with host seconds since
# just before exec; appends "init marker exit status" (seconds, '-' when absent) to $work/NAME.res.
run() {
	local name=$1 log=$work/$1.log t0 st
	shift
	t0=$(date +%s.%N)
	timeout -k 5 "$timeout" "$@" </dev/null 2>"$work/$name.err" |
		T0=$t0 perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf("%.3f %s", time - $ENV{T0}, $_)' > "$log"
	st=${PIPESTATUS[0]}
	local end
	end=$(echo "$(date +%s.%N) - $t0" | bc)
	at() { awk -v pat="$1" 'index($0, pat) { print $1; exit }' "$log"; }
	local init marker
	init=$(at 'Run /init')
	marker=$(at 'CKVM-RELEASE')
	echo "${init:--} ${marker:--} $(printf '%.3f' "$end") $st" >> "$work/$name.res"
	printf '  %-10s exec->Run /init %8s s   exec->first marker %8s s   exec->exit %8.3f s   status %s\n' \
		"$name" "${init:--}" "${marker:--}" "$end" "$st" >&2
	[ -s "$work/$name.err" ] && grep -v 'software KVM host: appending' "$work/$name.err" | head -n 3 |
		sed 's/^/    stderr: /' >&2
	return 0
}

ckvm_run() {
	local name=$1 kernel=$2
	shift 2
	run "$name" "$ckvm" run --kernel "$kernel" --initrd "$cache/initramfs.cpio" --memory "$mem" \
		--serial stdio --cmdline "$append" "$@"
}

echo "boot-bench: default guest $(cat "$cache/kernel.release" 2>/dev/null), $mem RAM, 1 vCPU," \
	"$(nproc) host CPUs, $runs run(s) each; host KVM module: $(cd /sys/module 2>/dev/null && ls -d kvm_intel kvm_amd kvm_pvm 2>/dev/null | head -n 1)" >&2
boot_one() {
	case $1 in
	host)    ckvm_run host "$cache/bzImage" --kernel-decompress host ;;
	guest)   ckvm_run guest "$cache/bzImage" --kernel-decompress guest ;;
	vmlinux) ckvm_run vmlinux "$cache/vmlinux" ;;
	qemu)    run qemu qemu-system-x86_64 -accel "$accel" -m "$mem" -smp 1 -nographic -no-reboot \
			-kernel "$cache/bzImage" -initrd "$cache/initramfs.cpio" -append "$append" ;;
	esac
}
# A balanced Latin square: over four rounds each boot runs once in each position and once after
# each other boot (or first), so neither a slot nor a predecessor favours one of them.
orders=("host guest vmlinux qemu" "vmlinux host qemu guest" "guest qemu host vmlinux"
	"qemu vmlinux guest host")
for round in $(seq "$runs"); do
	[ "$runs" -gt 1 ] && echo " round $round of $runs" >&2
	for b in ${orders[(round - 1) % 4]}; do
		boot_one "$b"
	done
done

# summary NAME: "init marker exit status": medians of the runs ('-' if any run lacked the line),
# status 0 only if every run exited 0.
summary() {
	awk 'function med(col,   n, i, j, t, v) {
		n = 0
		for (i = 1; i <= NR; i++) { if (val[i, col] == "-") return "-"; v[++n] = val[i, col] + 0 }
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return n % 2 ? sprintf("%.3f", v[(n + 1) / 2]) : sprintf("%.3f", (v[n / 2] + v[n / 2 + 1]) / 2)
	}
	{ for (c = 1; c <= 4; c++) val[NR, c] = $c; if ($4 != 0) bad = $4 }
	END { print med(1), med(2), med(3), bad + 0 }' "$work/$1.res"
}
read -r hi hm he hs <<< "$(summary host)"
read -r gi gm ge gs <<< "$(summary guest)"
read -r vi vm ve vs <<< "$(summary vmlinux)"
read -r qi qm qe qs <<< "$(summary qemu)"
qver=$(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }')
echo
[ "$runs" -gt 1 ] && echo "medians of $runs runs"
printf '%-44s %16s %20s %12s\n' "boot of the default guest" "exec->Run /init" "exec->first marker" "exec->exit"
printf '%-44s %14s s %18s s %10s s\n' "(a) ckvm bzImage, host decompression" "$hi" "$hm" "$he" \
	"(b) ckvm bzImage, guest decompression" "$gi" "$gm" "$ge" \
	"(c) ckvm vmlinux, PVH entry" "$vi" "$vm" "$ve" \
	"(d) QEMU $qver -accel $accel, bzImage" "$qi" "$qm" "$qe"
awk -v hi="$hi" -v hm="$hm" -v gi="$gi" -v gm="$gm" -v vi="$vi" -v vm="$vm" -v qi="$qi" -v qm="$qm" \
    -v acc="$accel" 'function r(a, b) { return (a == "" || b == "" || a == "-" || b == "-" || b == 0) ? "n/a" : sprintf("%.3f", a / b) }
	BEGIN {
	printf "ratios (Run /init | first marker): a/c %s | %s, a/b %s | %s, b/c %s | %s, a/d(%s) %s | %s\n",
		r(hi, vi), r(hm, vm), r(hi, gi), r(hm, gm), r(gi, vi), r(gm, vm), acc, r(hi, qi), r(hm, qm)
	if (hi != "-" && vi != "-" && gi != "-" && hi != "" && vi > 0 && gi > 0) {
		printf "host decompression vs vmlinux: %+.1f%% (bound: within 10%%): %s\n", (hi / vi - 1) * 100,
			(hi <= vi * 1.10 && hi >= vi * 0.90) ? "yes" : "NO"
		printf "host decompression vs guest decompression: %+.1f%% (bound: at least 25%% below): %s\n",
			(hi / gi - 1) * 100, hi <= gi * 0.75 ? "yes" : "NO"
	}
}'
[ "$hs" = 0 ] && [ "$gs" = 0 ] && [ "$vs" = 0 ] && [ "$hi" != - ] && [ "$gi" != - ] && [ "$vi" != - ]
