#!/bin/bash
# Firmware benchmark: SeaBIOS (bios.bin) boots the hobby-OS boot sector tests/guests/mbr.img from
# virtio-blk, under (a) ckvm --bios, (b) QEMU -accel kvm, (c) QEMU -accel tcg, all with the same
# firmware file, disk image, 512M of RAM and one vCPU. Measured on the host from just before exec:
#   exec -> first MBR instruction: the boot sector's first I/O writes 123 to port 0x504; ckvm's
#           --boot-timer logs it (ms since exec), QEMU gets an isa-debugcon at 0x504 whose byte is
#           timestamped on arrival;
#   exec -> test exit: the boot sector writes the test-exit port (0x501; QEMU's isa-debug-exit) and
#           the VMM process ends (status 67 expected from both).
# RUNS runs each, interleaved; medians and ckvm's ratio to each QEMU printed. Not part of any tier;
# one VM at a time. Usage: bench/firmware.sh [CKVM [MBR_IMAGE]]
# Env: BIOS (default /usr/share/seabios/bios.bin), RUNS (5), TIMEOUT per run (120 s).
set -u
ckvm=$(realpath "${1:-build/ckvm}")
img=$(realpath "${2:-build/tests/guests/mbr.img}")
bios=${BIOS:-/usr/share/seabios/bios.bin}
runs=${RUNS:-5}
timeout=${TIMEOUT:-120}
for f in "$ckvm" "$img" "$bios"; do
	[ -e "$f" ] || { echo "$0: $f missing (make; make guests; scripts/deps.sh test)" >&2; exit 2; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "$0: qemu-system-x86_64 missing (scripts/deps.sh bench)" >&2; exit 2; }
work=$(mktemp -d /tmp/ckvm-fw-bench.XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

now() { date +%s.%N; }

# Each run appends "mbr_s exit_s status" to $work/NAME.res ('-' when the marker never came).
run_ckvm() {
	local t0 st end mbr
	t0=$(now)
	timeout -k 5 "$timeout" "$ckvm" run --bios "$bios" --disk "path=$img,readonly=on" --test-exit \
		--boot-timer --serial "file=$work/ckvm.serial" </dev/null >/dev/null 2>"$work/ckvm.err"
	st=$?
	end=$(printf "%.3f" "$(echo "$(now) - $t0" | bc)")
	mbr=$(sed -n 's/.*guest boot time \([0-9.]*\) ms since exec.*/\1/p' "$work/ckvm.err" | head -n 1)
	[ -n "$mbr" ] && mbr=$(echo "scale=3; $mbr / 1000" | bc)
	echo "${mbr:--} $end $st" >> "$work/ckvm.res"
}

run_qemu() {
	local name=qemu-$1 t0 st end mbr
	t0=$(now)
	timeout -k 5 "$timeout" qemu-system-x86_64 -accel "$1" -machine pc -m 512M -smp 1 -bios "$bios" \
		-nographic -vga none -monitor none -serial "file:$work/$name.serial" -no-reboot \
		-drive "file=$img,format=raw,if=virtio,readonly=on" \
		-device isa-debug-exit,iobase=0x501,iosize=2 \
		-chardev stdio,id=bt -device isa-debugcon,iobase=0x504,chardev=bt </dev/null 2>"$work/$name.err" |
		T0=$t0 perl -MTime::HiRes=time -e '$/ = \1; while (<STDIN>) {
			if ($_ eq "{") { printf("%.3f\n", time - $ENV{T0}); last } } 1 while <STDIN>;' \
		> "$work/$name.mark"
	st=${PIPESTATUS[0]}
	end=$(printf "%.3f" "$(echo "$(now) - $t0" | bc)")
	mbr=$(head -n 1 "$work/$name.mark")
	echo "${mbr:--} $end $st" >> "$work/$name.res"
}

median() {	# median of column $1 of file $2, '-' entries skipped
	awk -v c="$1" '$c != "-" { print $c }' "$2" | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf("%.3f\n", m) }'
}

echo "firmware-bench: $(basename "$bios") ($(stat -c %s "$bios") bytes), $(basename "$img"), 512M, 1 vCPU, $runs run(s) each," \
	"$(nproc) host CPUs; host KVM module: $(cd /sys/module 2>/dev/null && ls -d kvm_intel kvm_amd kvm_pvm 2>/dev/null | head -n 1)" >&2
for i in $(seq 1 "$runs"); do
	# rotate the order so that no VMM always runs right after another one's load
	case $((i % 3)) in
	1) run_ckvm; run_qemu kvm; run_qemu tcg ;;
	2) run_qemu kvm; run_qemu tcg; run_ckvm ;;
	0) run_qemu tcg; run_ckvm; run_qemu kvm ;;
	esac
	echo "  run $i: ckvm $(tail -n 1 "$work/ckvm.res")   qemu-kvm $(tail -n 1 "$work/qemu-kvm.res")   qemu-tcg $(tail -n 1 "$work/qemu-tcg.res")   (mbr_s exit_s status)" >&2
done

printf '\n%-10s %18s %18s %8s\n' vmm "exec->MBR (s)" "exec->exit (s)" status
for n in ckvm qemu-kvm qemu-tcg; do
	printf '%-10s %18s %18s %8s\n' "$n" "$(median 1 "$work/$n.res")" "$(median 2 "$work/$n.res")" \
		"$(awk '{ print $3 }' "$work/$n.res" | sort -u | tr '\n' ' ')"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf("%.2fx", a / b) }'; }
c1=$(median 1 "$work/ckvm.res"); c2=$(median 2 "$work/ckvm.res")
for q in qemu-kvm qemu-tcg; do
	echo "ckvm / $q: exec->MBR $(ratio "$c1" "$(median 1 "$work/$q.res")"), exec->exit $(ratio "$c2" "$(median 2 "$work/$q.res")") (time ratio; below 1 = ckvm faster)"
done
