#!/bin/bash
# Snapshot/restore benchmark (issue 10 item 5, the snapshot part): the count guest
# (tests/api/count.S: a number a line on COM1) with 128 MiB and 1 GiB of RAM. Per size: the
# snapshot's wall time (ckvm ctl snapshot on a paused VM, disks none), the RAM file's apparent size
# and blocks on disk, and for the restore in a new process: exec -> first KVM_RUN (ckvm's --verbose
# timeline) and exec -> the guest's next number on its serial file. Median of RUNS. Not a test tier.
# Usage: bench/snapshot.sh CKVM COUNT_ELF [RUNS]   (make api-guests builds build/tests/api/count.elf)
set -u
[ $# -ge 2 ] || { echo "usage: $0 CKVM COUNT_ELF [RUNS]" >&2; exit 2; }
ckvm=$(realpath "$1"); guest=$(realpath "$2"); runs=${3:-3}
work=$(mktemp -d /tmp/ckvm-snapbench.XXXXXX) || exit 2
S=$work/api.sock; pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$work"' EXIT INT TERM

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
numbers() { local n; n=$(grep -cE '^[0-9]+$' "$1" 2>/dev/null); echo "${n:-0}"; }
wait_numbers() {	# FILE N [TIMEOUT_S]: until FILE has N numbered lines
	local end=$(( $(date +%s) + ${3:-30} ))
	while [ "$(numbers "$1")" -lt "$2" ]; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.002; done
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "-") }'; }

one() {	# MEM: one snapshot + restore; prints "snap_ms apparent_mib disk_kib first_run_ms next_number_ms"
	local mem=$1 t0 snap_ms first next
	rm -rf "$work/snap" "$work"/*.log "$S"
	"$ckvm" run --kernel "$guest" --memory "$mem" --serial "file=$work/a.log" --api-sock "$S" 2>/dev/null &
	pid=$!
	wait_numbers "$work/a.log" 20 || { echo "no output" >&2; return 1; }
	"$ckvm" ctl --api-sock "$S" pause >/dev/null
	t0=$(now_ms)
	"$ckvm" ctl --api-sock "$S" snapshot --to "$work/snap" >/dev/null || return 1
	snap_ms=$(( $(now_ms) - t0 ))
	kill -KILL $pid; wait $pid 2>/dev/null; pid=
	sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null	# the RAM file comes from disk, as after a reboot
	t0=$(now_ms)
	"$ckvm" run --kernel "$guest" --memory "$mem" --serial "file=$work/b.log" --restore "$work/snap" \
		--verbose 2>"$work/b.err" &
	pid=$!
	wait_numbers "$work/b.log" 1 || { echo "restore: no output" >&2; return 1; }
	next=$(( $(now_ms) - t0 ))
	kill -TERM $pid; wait $pid 2>/dev/null; pid=
	first=$(sed -n 's/.*+\([0-9.]*\) ms first KVM_RUN.*/\1/p' "$work/b.err" | head -n 1)
	echo "$snap_ms $(( $(stat -c %s "$work/snap/mem") >> 20 )) $(du -k "$work/snap/mem" | cut -f1) ${first:--} $next"
}

printf '%-6s %12s %12s %12s %18s %18s\n' RAM snapshot_ms file_MiB on_disk_KiB restore_1st_run_ms restore_output_ms
for mem in 128M 1G; do
	: > "$work/res"
	for _ in $(seq "$runs"); do one "$mem" >> "$work/res" || exit 1; done
	printf '%-6s %12s %12s %12s %18s %18s\n' "$mem" \
		"$(cut -d' ' -f1 "$work/res" | median)" "$(cut -d' ' -f2 "$work/res" | median)" \
		"$(cut -d' ' -f3 "$work/res" | median)" "$(cut -d' ' -f4 "$work/res" | median)" \
		"$(cut -d' ' -f5 "$work/res" | median)"
done
