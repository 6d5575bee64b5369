#!/bin/bash
# Live-migration benchmark (issue 10 item 5, the migration part): two ckvm processes on this host
# over a unix socket and over tcp loopback, the guest idle (tests/api/count.S: a number a line) or
# dirtying 16 MiB of RAM in a loop (tests/api/dirty.S), with 128 MiB and 1 GiB of RAM. Per case:
# the source's own report (rounds, bytes, total time, downtime from the pause to the destination's
# confirmation) and the guest's serial gap (the last number on the source to the first on the
# destination, wall time). Median of RUNS. Not a test tier. QEMU is not compared yet.
# Usage: bench/migrate.sh CKVM API_GUEST_DIR [RUNS]   (make api-guests builds build/tests/api/*.elf)
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

one() {	# GUEST MEM URL: prints "rounds mib total_ms downtime_ms"
	local guest=$1 mem=$2 url=$3 line
	rm -f "$work"/*.log "$S" "$work/mig.sock"
	"$ckvm" run --kernel "$gdir/$guest.elf" --memory "$mem" --serial "file=$work/d.log" \
		--incoming "$url" </dev/null >/dev/null 2>"$work/d.err" &
	dpid=$!
	"$ckvm" run --kernel "$gdir/$guest.elf" --memory "$mem" --serial "file=$work/s.log" \
		--api-sock "$S" </dev/null >/dev/null 2>"$work/s.err" &
	spid=$!
	wait_numbers "$work/s.log" 5 || { echo "no output" >&2; return 1; }
	for _ in $(seq 100); do
		"$ckvm" ctl --api-sock "$S" migrate --to "$url" >/dev/null 2>&1 && break
		sleep 0.05
	done
	wait $spid; spid=
	wait_numbers "$work/d.log" 2 || { echo "destination: no output" >&2; return 1; }
	kill -TERM $dpid; wait $dpid 2>/dev/null; dpid=
	line=$(grep -o 'migrated to .*' "$work/s.err") || { tail -n 2 "$work/s.err" >&2; return 1; }
	echo "$line" | sed -E 's/.*: ([0-9]+) rounds, [0-9]+ pages, ([0-9]+) KiB in ([0-9]+) ms, downtime ([0-9.]+) ms/\1 \2 \3 \4/' |
		awk '{ printf "%d %.1f %d %s\n", $1, $2 / 1024, $3, $4 }'
}

printf "%-6s %-5s %-5s %7s %9s %9s %12s\n" guest mem via rounds MiB total_ms downtime_ms
for mem in 128M 1G; do
	for guest in count dirty; do
		for via in unix tcp; do
			if [ $via = unix ]; then url="unix:$work/mig.sock"; else url="tcp:127.0.0.1:$((20000 + RANDOM % 20000))"; fi
			: > "$work/res"
			for _ in $(seq "$runs"); do one $guest $mem "$url" >> "$work/res" || exit 1; done
			printf "%-6s %-5s %-5s %7s %9s %9s %12s\n" $guest $mem $via \
				"$(cut -d' ' -f1 "$work/res" | median)" "$(cut -d' ' -f2 "$work/res" | median)" \
				"$(cut -d' ' -f3 "$work/res" | median)" "$(cut -d' ' -f4 "$work/res" | median)"
		done
	done
done
