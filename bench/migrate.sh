#!/bin/bash
# Live-migration benchmark (issue 10 item 5, the migration part): two ckvm processes on this host
# over a unix socket and over tcp loopback, the guest idle (tests/api/count.S: a number a line) or
# dirtying 16 MiB of RAM in a loop (tests/api/dirty.S), with 128 MiB and 1 GiB of RAM. Per case:
# the source's own report (rounds, bytes, total time, downtime from the pause to the destination's
# confirmation) and the guest's serial gap (the last number on the source to the first on the
# destination, wall time). Median of RUNS. Not a test tier.
# QEMU (qemu-system-x86_64 -accel tcg, the same guests behind a PVH shim: NAME-qemu.elf) the same
# way: a destination with -incoming URL, `migrate` over QMP, query-migrate's total time, downtime,
# dirty-sync count (rounds) and bytes; then the ratios qemu/ckvm. QEMU=none skips it.
# --migrate-disks: ckvm's count guest with a 64 MiB local image streamed (disk rows; QEMU's block
# migration is not compared).
# Usage: bench/migrate.sh CKVM API_GUEST_DIR [RUNS]
#   (make api-guests build/tests/api/count-qemu.elf build/tests/api/dirty-qemu.elf)
set -u
[ $# -ge 2 ] || { echo "usage: $0 CKVM API_GUEST_DIR [RUNS]" >&2; exit 2; }
ckvm=$(realpath "$1"); gdir=$(realpath "$2"); runs=${3:-3}
work=$(mktemp -d /tmp/ckvm-migbench.XXXXXX) || exit 2
S=$work/api.sock; spid=; dpid=
trap '[ -n "$spid" ] && kill -KILL $spid 2>/dev/null; [ -n "$dpid" ] && kill -KILL $dpid 2>/dev/null; rm -rf "$work"' EXIT INT TERM

numbers() { local n; n=$(grep -cE '^[0-9]+$' "$1" 2>/dev/null); echo "${n:-0}"; }
wait_numbers() {	# FILE N [TIMEOUT_S]
	local end=$(( $(date +%s) + ${3:-30} ))
	while [ "$(numbers "$1")" -lt "$2" ]; do [ "$(date +%s)" -ge "$end" ] && return 1; sleep 0.01; done
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "-") }'; }

one() {	# GUEST MEM URL [disk]: prints "rounds mib total_ms downtime_ms"
	local guest=$1 mem=$2 url=$3 line sdisk=() ddisk=() flag=()
	rm -f "$work"/*.log "$S" "$work/mig.sock"
	if [ "${4:-}" = disk ]; then	# local images: the source's full of data, the destination's empty
		head -c 64M /dev/urandom >"$work/s.img"; rm -f "$work/d.img"; truncate -s 64M "$work/d.img"
		sdisk=(--disk "path=$work/s.img"); ddisk=(--disk "path=$work/d.img"); flag=(--migrate-disks)
	fi
	"$ckvm" run --kernel "$gdir/$guest.elf" --memory "$mem" --serial "file=$work/d.log" \
		--incoming "$url" "${ddisk[@]}" </dev/null >/dev/null 2>"$work/d.err" &
	dpid=$!
	"$ckvm" run --kernel "$gdir/$guest.elf" --memory "$mem" --serial "file=$work/s.log" \
		--api-sock "$S" "${sdisk[@]}" </dev/null >/dev/null 2>"$work/s.err" &
	spid=$!
	wait_numbers "$work/s.log" 5 || { echo "no output" >&2; return 1; }
	for _ in $(seq 100); do
		"$ckvm" ctl --api-sock "$S" migrate --to "$url" "${flag[@]}" >/dev/null 2>&1 && break
		sleep 0.05
	done
	wait $spid; spid=
	wait_numbers "$work/d.log" 2 || { echo "destination: no output" >&2; return 1; }
	kill -TERM $dpid; wait $dpid 2>/dev/null; dpid=
	line=$(grep -o 'migrated to .*' "$work/s.err") || { tail -n 2 "$work/s.err" >&2; return 1; }
	[ "${4:-}" = disk ] && { cmp -s "$work/s.img" "$work/d.img" || { echo "disk: images differ" >&2; return 1; }; }
	echo "$line" | sed -E 's/.*: ([0-9]+) rounds, [0-9]+ pages, [0-9]+ disk blocks, ([0-9]+) KiB in ([0-9]+) ms, downtime ([0-9.]+) ms/\1 \2 \3 \4/' |
		awk '{ printf "%d %.1f %d %s\n", $1, $2 / 1024, $3, $4 }'
}

# qmp_migrate SOCK URI: QEMU's migrate over QMP, polled to its end; prints
# "rounds mib total_ms downtime_ms" from query-migrate
qmp_migrate() {
	python3 - "$1" "$2" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
for _ in range(3000):
    try:
        s.connect(sys.argv[1]); break
    except OSError: time.sleep(0.01)
f = s.makefile("rw")
def cmd(name, args=None):
    f.write(json.dumps({"execute": name, **({"arguments": args} if args else {})}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r: return r
f.readline(); cmd("qmp_capabilities")
r = cmd("migrate", {"uri": sys.argv[2]})
if "error" in r: sys.exit("qemu migrate: " + r["error"]["desc"])
while True:
    q = cmd("query-migrate")["return"]
    if q.get("status") in ("completed", "failed"): break
    time.sleep(0.002)
if q["status"] != "completed": sys.exit("qemu migration " + q["status"])
print(q["ram"].get("dirty-sync-count", 0), "%.1f" % (q["ram"]["transferred"] / 1048576),
      q["total-time"], q["downtime"])
PY
}
qemu_one() {	# GUEST MEM URL: the same fields as one()
	local q=(qemu-system-x86_64 -accel tcg -machine pc -m "$2" -display none -nodefaults
		 -kernel "$gdir/$1-qemu.elf") out
	rm -f "$work"/*.log "$work/q.sock" "$work/mig.sock"
	"${q[@]}" -serial "file:$work/d.log" -incoming "$3" </dev/null >/dev/null 2>"$work/d.err" &
	dpid=$!
	"${q[@]}" -serial "file:$work/s.log" -qmp "unix:$work/q.sock,server=on,wait=off" \
		</dev/null >/dev/null 2>"$work/s.err" &
	spid=$!
	wait_numbers "$work/s.log" 5 60 || { echo "qemu: no output" >&2; return 1; }
	for _ in $(seq 100); do [ -S "$work/mig.sock" ] || [ "${3#unix:}" = "$3" ] && break; sleep 0.05; done
	out=$(qmp_migrate "$work/q.sock" "$3") || return 1
	kill -KILL $spid; wait $spid 2>/dev/null; spid=
	wait_numbers "$work/d.log" 1 60 || { echo "qemu destination: no output" >&2; return 1; }
	kill -KILL $dpid; wait $dpid 2>/dev/null; dpid=
	echo "$out"
}

fmt="%-10s %-6s %-5s %-5s %7s %9s %9s %12s\n"
printf "$fmt" vmm guest mem via rounds MiB total_ms downtime_ms
row() {	# VMM GUEST MEM VIA FILE
	printf "$fmt" "$1" "$2" "$3" "$4" "$(cut -d' ' -f1 "$5" | median)" "$(cut -d' ' -f2 "$5" | median)" \
		"$(cut -d' ' -f3 "$5" | median)" "$(cut -d' ' -f4 "$5" | median)"
}
for mem in 128M 1G; do
	for guest in count dirty; do
		for via in unix tcp; do
			if [ $via = unix ]; then url="unix:$work/mig.sock"; else url="tcp:127.0.0.1:$((20000 + RANDOM % 20000))"; fi
			: > "$work/res"
			for _ in $(seq "$runs"); do one $guest $mem "$url" >> "$work/res" || exit 1; done
			row ckvm $guest $mem $via "$work/res"
			[ "${QEMU:-}" = none ] || ! command -v qemu-system-x86_64 >/dev/null && continue
			[ -e "$gdir/$guest-qemu.elf" ] || { echo "($gdir/$guest-qemu.elf: not built)"; continue; }
			: > "$work/resq"
			for _ in $(seq "$runs"); do qemu_one $guest $mem "$url" >> "$work/resq" || break; done
			row qemu $guest $mem $via "$work/resq"
			awk -v a="$(cut -d' ' -f3 "$work/res" | median)" -v b="$(cut -d' ' -f3 "$work/resq" | median)" \
			    -v c="$(cut -d' ' -f4 "$work/res" | median)" -v d="$(cut -d' ' -f4 "$work/resq" | median)" \
			    'function r(x, y) { return (x > 0 && y != "-") ? sprintf("%.1fx", y / x) : "-" }
			     BEGIN { printf "%-10s %-6s %-5s %-5s %7s %9s %9s %12s\n", "qemu/ckvm", "", "", "", "", "",
				     r(a, b), r(c, d) }'
		done
	done
	: > "$work/res"
	for _ in $(seq "$runs"); do one count $mem "unix:$work/mig.sock" disk >> "$work/res" || exit 1; done
	row ckvm "count+64MiB-disk" $mem unix "$work/res"
done
