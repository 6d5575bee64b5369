#!/bin/bash
# Snapshot/restore benchmark (issue 10 item 5, the snapshot part): the count guest
# (tests/api/count.S: a number a line on COM1) with 128 MiB and 1 GiB of RAM. Per size: the
# snapshot's wall time (ckvm ctl snapshot on a paused VM, disks none), the RAM file's apparent size
# and blocks on disk, and for the restore in a new process: exec -> first KVM_RUN (ckvm's --verbose
# timeline) and exec -> the guest's next number on its serial file. Median of RUNS. Not a test tier.
# QEMU (TCG here; the same guest behind a PVH shim, count-qemu.elf beside COUNT_ELF) the same way:
# stop + migrate to a file over QMP ("exec:cat > FILE"), then a new QEMU with -incoming "exec:cat
# FILE" and cont; its file size is the whole stream. Ratios are QEMU / ckvm.
# Usage: bench/snapshot.sh CKVM COUNT_ELF [RUNS]   (make api-guests build/tests/api/count-qemu.elf)
# Env: QEMU=none skips QEMU.
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

# qmp SOCKET CMD [ARGS_JSON]: one QMP command (after the greeting and qmp_capabilities); with
# CMD=migrate-wait, migrate to ARGS and poll query-migrate until it completes.
qmp() {
	python3 - "$@" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
def cmd(c, a=None):
    f.write(json.dumps({"execute": c, **({"arguments": a} if a else {})}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r: return r
f.readline(); cmd("qmp_capabilities")
if sys.argv[2] == "migrate-wait":
    cmd("migrate", {"uri": sys.argv[3]})
    while cmd("query-migrate")["return"].get("status") not in ("completed", "failed"): time.sleep(0.002)
else:
    cmd(sys.argv[2])
PY
}
qemu_one() {	# MEM: QEMU's snapshot + restore, same fields as one()
	local mem=$1 t0 snap_ms next qg=$(dirname "$guest")/count-qemu.elf
	local q=(qemu-system-x86_64 -accel tcg -machine pc -m "$mem" -display none -nodefaults -kernel "$qg")
	rm -f "$work"/*.log "$work/q.sock" "$work/q.mig"
	"${q[@]}" -serial "file:$work/a.log" -qmp "unix:$work/q.sock,server=on,wait=off" &
	pid=$!
	wait_numbers "$work/a.log" 20 60 || { echo "qemu: no output" >&2; return 1; }
	qmp "$work/q.sock" stop
	t0=$(now_ms)
	qmp "$work/q.sock" migrate-wait "exec:cat > $work/q.mig"
	snap_ms=$(( $(now_ms) - t0 ))
	kill -KILL $pid; wait $pid 2>/dev/null; pid=
	sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null
	t0=$(now_ms)
	"${q[@]}" -serial "file:$work/b.log" -qmp "unix:$work/q.sock,server=on,wait=off" \
		-incoming "exec:cat $work/q.mig" &
	pid=$!
	for _ in $(seq 5000); do [ -S "$work/q.sock" ] && break; sleep 0.002; done
	qmp "$work/q.sock" cont
	wait_numbers "$work/b.log" 1 60 || { echo "qemu restore: no output" >&2; return 1; }
	next=$(( $(now_ms) - t0 ))
	kill -KILL $pid; wait $pid 2>/dev/null; pid=
	echo "$snap_ms $(( $(stat -c %s "$work/q.mig") >> 20 )) $(du -k "$work/q.mig" | cut -f1) - $next"
}

printf '%-12s %12s %12s %12s %18s %18s\n' VMM/RAM snapshot_ms file_MiB on_disk_KiB restore_1st_run_ms restore_output_ms
row() {	# LABEL FILE
	printf '%-12s %12s %12s %12s %18s %18s\n' "$1" \
		"$(cut -d' ' -f1 "$2" | median)" "$(cut -d' ' -f2 "$2" | median)" \
		"$(cut -d' ' -f3 "$2" | median)" "$(cut -d' ' -f4 "$2" | median)" \
		"$(cut -d' ' -f5 "$2" | median)"
}
for mem in 128M 1G; do
	: > "$work/res.ckvm"; : > "$work/res.qemu"
	for _ in $(seq "$runs"); do one "$mem" >> "$work/res.ckvm" || exit 1; done
	row "ckvm $mem" "$work/res.ckvm"
	if [ "${QEMU:-}" != none ] && command -v qemu-system-x86_64 >/dev/null; then
		for _ in $(seq "$runs"); do qemu_one "$mem" >> "$work/res.qemu" || break; done
		row "qemu $mem" "$work/res.qemu"
		awk -v a="$(cut -d' ' -f1 "$work/res.ckvm" | median)" -v b="$(cut -d' ' -f1 "$work/res.qemu" | median)" \
		    -v c="$(cut -d' ' -f3 "$work/res.ckvm" | median)" -v d="$(cut -d' ' -f3 "$work/res.qemu" | median)" \
		    -v e="$(cut -d' ' -f5 "$work/res.ckvm" | median)" -v f="$(cut -d' ' -f5 "$work/res.qemu" | median)" \
		    'function r(x, y) { return (x > 0 && y != "-") ? sprintf("%.1fx", y / x) : "-" }
		     BEGIN { printf "%-12s %12s %12s %12s %18s %18s\n", "qemu/ckvm", r(a, b), "", r(c, d), "", r(e, f) }'
	fi
done
