# Live migration in the API tier (sourced by tests/api/run.sh after snapshot.sh: uses its start/
# api/expect/ok/bad/stopped, seq_ok/wait_more and $ckvm $gdir $work $S). The count guest prints
# 1, 2, 3, ...; it moves between two ckvm processes over a unix socket and over tcp loopback and
# must go on at the next number on the destination's console. A destination killed mid-stream and
# a bit flipped in the stream (tests/api/migproxy.py in the middle) leave the source running.
# --migrate-disks: the blkwrite guest (tests/api/blkwrite.c) writes numbered sectors while its
# local image is streamed; the destination's image must equal a run never migrated.

# dest NAME ARGS...: a destination in the background (dpid), its console $work/NAME.log; the
# count guest unless $dkernel says another
dest() {
	local name=$1; shift
	rm -f "$work/$name.log"
	"$ckvm" run --kernel "${dkernel:-$gdir/count.elf}" --memory 128M --serial "file=$work/$name.log" "$@" \
		</dev/null >/dev/null 2>"$work/$name.err" &
	dpid=$!
}
# migrate_to URL: `ckvm ctl migrate` until the destination listens (bounded)
migrate_to() {
	for _ in $(seq 100); do
		"$ckvm" ctl --api-sock "$S" migrate --to "$1" >/dev/null 2>"$work/ctl.err" && return 0
		grep -q 'cannot connect' "$work/ctl.err" || return 1
		sleep 0.05
	done
	return 1
}
# dest_status: the destination's exit status (within 10 s; 124 if it is still running)
dest_status() {
	for _ in $(seq 200); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$dpid" 2>/dev/null; then kill -KILL "$dpid"; wait "$dpid"; return 124; fi
	wait "$dpid"
}
# mig_state STATE: GET /migrate reports it within 10 s
mig_state() {
	for _ in $(seq 200); do
		api GET /migrate; grep -q "\"state\":\"$1\"" <<<"$BODY" && return 0
		sleep 0.05
	done
	return 1
}
C="run --kernel $gdir/count.elf --memory 128M"

echo "--- live migration (count guest)"
for via in unix tcp; do
	rm -f "$work"/m-*.log
	if [ $via = unix ]; then url="unix:$work/mig.sock"; else url="tcp:127.0.0.1:$((20000 + RANDOM % 20000))"; fi
	# a disk on shared storage (the same path): its lock moves to the destination
	rm -f "$work/mdisk.img"; truncate -s 8M "$work/mdisk.img"
	dest m-dst --incoming "$url" --disk "$work/mdisk.img"
	T=mig-$via-start; start $C --disk "$work/mdisk.img" --serial "file=$work/m-src.log" --api-sock "$S" &&
		wait_more "$work/m-src.log" 5 &&
		ok || bad "no numbers"
	T=mig-$via-none; api GET /migrate; expect 200 '"state":"none"'
	T=mig-$via-ctl; migrate_to "$url" && ok || bad "$(cat "$work/ctl.err")"
	T=mig-$via-source-exits; stopped 0
	T=mig-$via-progress; grep -o 'migrated to .*' "$work/err" | head -n 1 | grep -q downtime &&
		ok "$(grep -o 'migrated to .*' "$work/err" | sed 's/.*: //' | head -n 1)" || bad "$(tail -n 2 "$work/err")"
	n=$(grep -cE '^[0-9]+$' "$work/m-src.log")
	T=mig-$via-dest-counts; wait_more "$work/m-dst.log" 5 && ok || bad "$(cat "$work/m-dst.err")"
	T=mig-$via-sequence; r=$(seq_ok "$work/m-src.log" "$work/m-dst.log") && ok "source to $n, destination on" ||
		bad "$r"
	T=mig-$via-intact; grep -q MISMATCH "$work/m-dst.log" && bad "count in RAM and in %r12 disagree" || ok
	T=mig-$via-disk-lock-moved; "$ckvm" $C --disk "$work/mdisk.img" </dev/null >/dev/null 2>"$work/third.err"
	grep -q 'locked by another process' "$work/third.err" && ok || bad "$(tail -n 1 "$work/third.err")"
	kill -TERM "$dpid"; T=mig-$via-dest-exit; dest_status; rc=$?; [ $rc -eq 0 ] && ok || bad "status $rc"
done

echo "--- a migration that fails leaves the source running"
T=migfail-start; start $C --serial "file=$work/f-src.log" --api-sock "$S" && wait_more "$work/f-src.log" 5 && ok ||
	bad "no numbers"
T=migfail-bad-url; api PUT /migrate '{"destination_url":"ftp:x"}'; expect 400 'tcp:HOST:PORT'
T=migfail-refused; api PUT /migrate "{\"destination_url\":\"unix:$work/nobody.sock\"}"; expect 400 'cannot connect'
# destination SIGKILLed mid-stream: the proxy forwards the hello and part of the RAM, then holds
dest f-dst --incoming "unix:$work/real.sock"
python3 "$here/migproxy.py" "$work/proxy.sock" "$work/real.sock" stall 6000 & ppid=$!
for _ in $(seq 100); do [ -S "$work/proxy.sock" ] && [ -S "$work/real.sock" ] && break; sleep 0.05; done
T=migfail-kill-start; migrate_to "unix:$work/proxy.sock" && ok || bad "$(cat "$work/ctl.err")"
for _ in $(seq 100); do grep -q 'waiting for the source' "$work/f-dst.err" && break; sleep 0.05; done
kill -KILL "$dpid"; wait "$dpid" 2>/dev/null
T=migfail-kill-reported; mig_state failed && ok "$(grep -o '"error":"[^"]*"' <<<"$BODY" | cut -c1-90)" ||
	bad "$BODY"
wait "$ppid" 2>/dev/null
T=migfail-kill-source-logs; grep -q 'failed, the VM keeps running here' "$work/err" && ok || bad "$(tail -n 2 "$work/err")"
n=$(grep -cE '^[0-9]+$' "$work/f-src.log")
T=migfail-kill-keeps-counting; wait_more "$work/f-src.log" $((n + 5)) && r=$(seq_ok "$work/f-src.log") && ok ||
	bad "${r:-stopped counting at $n}"
# one bit flipped in the first page's data: the destination refuses the stream
dest f-dst2 --incoming "unix:$work/real.sock"
python3 "$here/migproxy.py" "$work/proxy.sock" "$work/real.sock" flip 100 & ppid=$!
for _ in $(seq 100); do [ -S "$work/proxy.sock" ] && [ -S "$work/real.sock" ] && break; sleep 0.05; done
T=migfail-flip-start; migrate_to "unix:$work/proxy.sock" && ok || bad "$(cat "$work/ctl.err")"
T=migfail-flip-dest-exits; dest_status; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "status $rc" || bad "status $rc"
T=migfail-flip-clear-line; grep -q 'damaged stream' "$work/f-dst2.err" && [ "$(grep -c 'error' "$work/f-dst2.err")" -eq 1 ] &&
	ok "$(grep 'damaged' "$work/f-dst2.err" | cut -c1-100)" || bad "$(cat "$work/f-dst2.err")"
T=migfail-flip-dest-never-ran; grep -qE '^[0-9]+$' "$work/f-dst2.log" 2>/dev/null && bad "the guest ran" || ok
T=migfail-flip-reported; mig_state failed && ok || bad "$BODY"
wait "$ppid" 2>/dev/null
n=$(grep -cE '^[0-9]+$' "$work/f-src.log")
T=migfail-flip-keeps-counting; wait_more "$work/f-src.log" $((n + 5)) && r=$(seq_ok "$work/f-src.log") && ok ||
	bad "${r:-stopped counting at $n}"
# and a later migration still works, continuing the same count
dest f-dst3 --incoming "unix:$work/mig.sock"
T=migfail-retry; migrate_to "unix:$work/mig.sock" && ok || bad "$(cat "$work/ctl.err")"
T=migfail-retry-source-exits; stopped 0
T=migfail-retry-sequence; wait_more "$work/f-dst3.log" 5 && r=$(seq_ok "$work/f-src.log" "$work/f-dst3.log") && ok ||
	bad "${r:-no numbers on the destination}"
kill -TERM "$dpid"; dest_status >/dev/null

echo "--- pre-copy rounds (dirty guest: rewrites 16 MiB in a loop)"
dkernel=$gdir/dirty.elf dest g-dst --incoming "unix:$work/mig.sock"
T=migdirty-start; start run --kernel "$gdir/dirty.elf" --memory 128M --serial "file=$work/g-src.log" --api-sock "$S" &&
	wait_more "$work/g-src.log" 3 && ok || bad "no numbers"
# a 1 ms target cannot be met: rounds until the limit, then the rest in the pause. The bandwidth
# cap makes each round that sends the 16 MiB the guest rewrites last ~0.13 s, so even on a loaded host
# the guest runs during the first and leaves pages dirty for a second; 30 rounds take ~4 s.
T=migdirty-ctl; for _ in $(seq 100); do
	"$ckvm" ctl --api-sock "$S" migrate --to "unix:$work/mig.sock" --downtime-ms 1 --bandwidth-mbps 1000 \
		>/dev/null 2>"$work/ctl.err" && break
	sleep 0.05
done; grep -q . "$work/ctl.err" && bad "$(cat "$work/ctl.err")" || ok
for _ in $(seq 600); do kill -0 "$vmpid" 2>/dev/null || break; sleep 0.05; done	# up to 30 s of rounds
T=migdirty-source-exits; stopped 0
T=migdirty-rounds; r=$(grep -o 'migrated to .*: [0-9]* rounds' "$work/err" | grep -o '[0-9]* rounds$' | cut -d' ' -f1)
[ "${r:-0}" -ge 2 ] && ok "$(grep -o 'migrated to .*' "$work/err" | sed 's/.*: //')" || bad "${r:-no} rounds"
T=migdirty-sequence; wait_more "$work/g-dst.log" 3 && r=$(seq_ok "$work/g-src.log" "$work/g-dst.log") && ok ||
	bad "${r:-no numbers on the destination}"
T=migdirty-no-stale-page; grep -q STALE "$work/g-dst.log" "$work/g-src.log" && bad "a page came over stale" || ok
kill -TERM "$dpid"; dest_status >/dev/null

echo "--- --migrate-disks (blkwrite guest: numbered sectors written while it migrates)"
# Local images: the source's and the destination's are different files with different stale
# contents; a run never migrated, from a copy of the source's image, is the reference.
head -c 8M /dev/urandom >"$work/k-src.img"; cp "$work/k-src.img" "$work/k-ref.img"
head -c 8M /dev/urandom >"$work/k-dst.img"; cp "$work/k-dst.img" "$work/k-bad.img"
K="run --kernel $gdir/blkwrite.elf --memory 128M --test-exit"
"$ckvm" $K --disk "path=$work/k-ref.img" --serial "file=$work/k-ref.log" </dev/null >/dev/null 2>&1 & refpid=$!
T=migdisk-start; start $K --disk "path=$work/k-src.img" --serial "file=$work/k-src.log" --api-sock "$S" &&
	wait_more "$work/k-src.log" 20 && ok || bad "no numbers"
# ctl_migrate URL ARGS...: `ckvm ctl migrate` until the destination listens (bounded)
ctl_migrate() {
	local url=$1; shift
	for _ in $(seq 100); do
		"$ckvm" ctl --api-sock "$S" migrate --to "$url" "$@" >/dev/null 2>"$work/ctl.err" && return 0
		grep -q 'cannot connect' "$work/ctl.err" || return 1
		sleep 0.05
	done
	return 1
}
# first one bit flipped in a disk block's data: refused, the source keeps writing
dkernel=$gdir/blkwrite.elf dest k-dst-bad --incoming "unix:$work/real.sock" --test-exit --disk "path=$work/k-bad.img"
python3 "$here/migproxy.py" "$work/proxy.sock" "$work/real.sock" flipdisk 100 & ppid=$!
for _ in $(seq 100); do [ -S "$work/proxy.sock" ] && [ -S "$work/real.sock" ] && break; sleep 0.05; done
T=migdisk-flip-ctl; ctl_migrate "unix:$work/proxy.sock" --migrate-disks && ok || bad "$(cat "$work/ctl.err")"
T=migdisk-flip-dest-exits; dest_status; rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "status $rc" || bad "status $rc"
T=migdisk-flip-clear-line; grep -q "damaged stream: disk 0's block at [0-9]* fails its checksum" "$work/k-dst-bad.err" &&
	ok "$(grep -o 'damaged.*' "$work/k-dst-bad.err")" || bad "$(cat "$work/k-dst-bad.err")"
T=migdisk-flip-reported; mig_state failed && ok || bad "$BODY"
wait "$ppid" 2>/dev/null
n=$(grep -cE '^[0-9]+$' "$work/k-src.log")
T=migdisk-flip-keeps-writing; wait_more "$work/k-src.log" $((n + 5)) && ok || bad "stopped at $n"
# then the real one, mid-way through the writes
dkernel=$gdir/blkwrite.elf dest k-dst --incoming "unix:$work/mig.sock" --test-exit --disk "path=$work/k-dst.img"
T=migdisk-ctl; ctl_migrate "unix:$work/mig.sock" --migrate-disks && ok || bad "$(cat "$work/ctl.err")"
T=migdisk-source-exits; stopped 0
T=migdisk-blocks-sent; b=$(grep -o 'migrated to .*' "$work/err" | grep -o '[0-9]* disk blocks' | cut -d' ' -f1)
[ "${b:-0}" -ge 128 ] && ok "$(grep -o 'migrated to .*' "$work/err" | sed 's/.*: //')" || bad "${b:-no} disk blocks"
n=$(grep -cE '^[0-9]+$' "$work/k-src.log")
T=migdisk-mid-way; grep -q DONE "$work/k-src.log" && bad "the guest finished on the source" || ok "source to $n"
# the guest finishes on the destination (bounded: a loaded host runs it slowly)
for _ in $(seq 1200); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$dpid" 2>/dev/null && kill -KILL "$dpid"; wait "$dpid"; rc=$?
T=migdisk-dest-finishes; [ $rc -eq 43 ] && grep -q DONE "$work/k-dst.log" && ok || bad "status $rc: $(tail -n 2 "$work/k-dst.err")"
T=migdisk-sequence; r=$(seq_ok "$work/k-src.log" "$work/k-dst.log") && ok || bad "$r"
for _ in $(seq 1200); do kill -0 "$refpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$refpid" 2>/dev/null && kill -KILL "$refpid"; wait "$refpid"; rc=$?
T=migdisk-reference; [ $rc -eq 43 ] && ok || bad "the unmigrated run: status $rc"
T=migdisk-image-equal; r=$(cmp "$work/k-dst.img" "$work/k-ref.img" 2>&1) && ok "cmp: destination = never-migrated run" ||
	bad "$r"
T=migdisk-stale-differs; cmp -s "$work/k-src.img" "$work/k-ref.img" && bad "the source image has the later writes" ||
	ok "the source's own image stopped at the switch-over"
