#!/bin/bash
# API tier: the real ckvm binary driven over its Unix socket with curl --unix-socket (and
# rawclient.py for exact bytes), against tiny guests: Firecracker's calls, pause/resume seen on
# the serial output, every hostile client of issue 8 item 4 followed by a good request, ckvm ctl,
# --config-file, `ckvm --api-sock` + PUTs + InstanceStart, SendCtrlAltDel into the i8042, the
# socket file's life. Also reports the request latency, the pause latency and the RSS.
# Usage: run.sh CKVM API_GUEST_DIR CLI_GUEST_DIR   Prints "api: N passed, N failed".
set -u
[ $# -eq 3 ] || { echo "usage: $0 CKVM API_GUEST_DIR CLI_GUEST_DIR" >&2; exit 2; }
ckvm=$(realpath "$1") && gdir=$(realpath "$2") && cdir=$(realpath "$3") || exit 2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ckvm-api.XXXXXX) || exit 2
S=$work/api.sock
vmpid=
cleanup() {
	[ -n "$vmpid" ] && kill -TERM "$vmpid" 2>/dev/null && wait "$vmpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
pass=0; fail=0; T=

ok()  { echo "PASS $T${1:+ ($1)}"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $T: $*"; fail=$((fail + 1))
	[ -f "$work/err" ] && sed 's/^/    stderr: /' "$work/err" | cut -c1-200 | tail -n 3
	return 0
}

# api METHOD PATH [BODY]: one request; sets CODE and BODY
api() {
	local out
	out=$(curl -s -m 5 --unix-socket "$S" -X "$1" ${3+-H 'Content-Type: application/json' -d "$3"} \
		-w '\n%{http_code}' "http://localhost$2")
	CODE=${out##*$'\n'}; BODY=${out%$'\n'*}
}
expect() {	# expect CODE [REGEX]: the last reply
	if [ "$CODE" != "$1" ]; then bad "HTTP $CODE, expected $1: $BODY"
	elif [ $# -ge 2 ] && ! grep -Eq -- "$2" <<<"$BODY"; then bad "body does not match /$2/: $BODY"
	else ok; fi
}
good_after() {	# the server still answers at once
	api GET /
	[ "$CODE" = 200 ] || bad "GET / after it: HTTP $CODE"
}

# start ARGS...: ckvm in the background; waits for the socket; sets vmpid
start() {
	rm -f "$S"
	"$ckvm" "$@" </dev/null >"$work/out" 2>"$work/err" &
	vmpid=$!
	for _ in $(seq 100); do
		[ -S "$S" ] && return 0
		kill -0 "$vmpid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# stopped [STATUS]: ckvm has exited (within 5 s) with STATUS and removed its socket
stopped() {
	local rc i
	for i in $(seq 100); do kill -0 "$vmpid" 2>/dev/null || break; sleep 0.05; done
	if kill -0 "$vmpid" 2>/dev/null; then bad "still running"; kill -KILL "$vmpid"; wait "$vmpid"; vmpid=; return; fi
	wait "$vmpid"; rc=$?; vmpid=
	if [ "$rc" -ne "${1:-0}" ]; then bad "exit status $rc, expected ${1:-0}"
	elif [ -e "$S" ]; then bad "socket file left behind"
	else ok; fi
}
wait_serial() {	# wait_serial FILE TEXT
	for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}

echo "--- ckvm run ... --api-sock: a VM configured by flags, managed by the API"
T=run-starts; start run --kernel "$gdir/tick.elf" --serial "file=$work/tick.log" --api-sock "$S" &&
	wait_serial "$work/tick.log" READY && ok || bad "no socket or no READY"
T=socket-mode-0600; [ "$(stat -c %a "$S")" = 600 ] && ok || bad "mode $(stat -c %a "$S")"
T=get-root; api GET /; expect 200 '"state":"Running"'
T=get-version; api GET /version; expect 200 '"firecracker_version"'
T=get-vm-config; api GET /vm/config; expect 200 "\"kernel_image_path\":\"$gdir/tick.elf\""
T=get-machine-config; api GET /machine-config; expect 200 '"vcpu_count":1'
T=preboot-after-start; api PUT /machine-config '{"vcpu_count":2,"mem_size_mib":64}'
expect 400 'pre-boot call: the VM was configured by `ckvm run` flags'
T=instancestart-after-start; api PUT /actions '{"action_type":"InstanceStart"}'; expect 400 'InstanceStart'
T=second-ckvm-refused
"$ckvm" run --kernel "$cdir/wait.elf" --serial none --api-sock "$S" </dev/null >/dev/null 2>"$work/err2"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "another process is serving it" "$work/err2" && [ -S "$S" ]; then ok
else bad "status $rc: $(cat "$work/err2")"; fi

echo "--- pause / resume"
T=pause; api PATCH /vm '{"state":"Paused"}'; expect 204
T=state-paused; api GET /; expect 200 '"state":"Paused"'
T=serial-stops
a=$(stat -c %s "$work/tick.log"); sleep 0.6; b=$(stat -c %s "$work/tick.log")
[ "$a" = "$b" ] && ok "$a bytes before and after 0.6 s" || bad "grew from $a to $b while paused"
T=pause-again; api PATCH /vm '{"state":"Paused"}'; expect 204
T=resume; api PATCH /vm '{"state":"Resumed"}'; expect 204
T=serial-goes-on; sleep 0.6; c=$(stat -c %s "$work/tick.log")
[ "$c" -gt "$b" ] && ok "$b -> $c bytes" || bad "no output after resume ($b -> $c)"
T=state-running; api GET /; expect 200 '"state":"Running"'
T=pause-bad-state; api PATCH /vm '{"state":"Sleeping"}'; expect 400 'Paused'
lat=()
for _ in 1 2 3 4 5 6 7 8 9 10; do
	"$ckvm" ctl --api-sock "$S" pause >/dev/null && "$ckvm" ctl --api-sock "$S" resume >/dev/null
done
T=pause-latency
mapfile -t lat < <(sed -n 's/.*out of KVM_RUN in \([0-9]*\) us/\1/p' "$work/err" | sort -n)
if [ "${#lat[@]}" -ge 10 ]; then ok "median ${lat[$(( ${#lat[@]} / 2 ))]} us, max ${lat[-1]} us over ${#lat[@]} pauses"
else bad "only ${#lat[@]} pause lines in the log"; fi

echo "--- hostile clients (each followed by a good request)"
big=$work/big.json; head -c 60000 /dev/zero | tr '\0' ' ' > "$big"
T=oversize-body; api PUT /machine-config "@$big"; expect 413 'larger than 51200'; good_after
T=malformed-json; api PUT /logger '{"level": '; expect 400 'malformed JSON'; good_after
T=deep-json; api PUT /logger "$(printf '[%.0s' $(seq 2000))"; expect 400 'nesting'; good_after
T=unknown-field; api PUT /logger '{"level":"Info","colour":"red"}'; expect 400 "unknown field 'colour'"; good_after
T=wrong-type; api PUT /metrics '{"metrics_path":42}'; expect 400 'must be a string'; good_after
T=negative; api PUT /machine-config '{"vcpu_count":-1,"mem_size_mib":64}'; expect 400 'pre-boot|negative'; good_after
T=id-slash; api PATCH /drives/a/b '{"drive_id":"a"}'; expect 400; good_after
T=id-dotdot; api PATCH /drives/.. '{"drive_id":".."}'; expect 400; good_after
T=id-1kb; api PATCH "/drives/$(head -c 1024 /dev/zero | tr '\0' a)" '{"drive_id":"a"}'; expect 400 'at most 64'; good_after
T=malformed-http; r=$(python3 "$here/rawclient.py" "$S" raw 'BLAH / HTTP/1.1\r\n\r\n')
[[ $r == "HTTP/1.1 400"* ]] && ok || bad "$r"; good_after
T=binary-garbage; r=$(python3 "$here/rawclient.py" "$S" raw '\x16\x03\x01\x00\xff\xfe\r\n\r\n')
[[ $r == "HTTP/1.1 4"* || $r == "(closed)" ]] && ok "$r" || bad "$r"; good_after
T=stalled-client
python3 "$here/rawclient.py" "$S" stall >"$work/stall" &
spid=$!
sleep 0.2
api GET /; [ "$CODE" = 200 ] || bad "GET / while a client stalls: $CODE"
wait "$spid"; r=$(cat "$work/stall")
[[ $r == "HTTP/1.1 408"* ]] && ok "$r" || bad "$r"
T=many-connections; r=$(python3 "$here/rawclient.py" "$S" flood 200) && ok "$r" || bad "$r"; good_after
T=disconnect-mid-response; r=$(python3 "$here/rawclient.py" "$S" hangup); good_after
[ "$CODE" = 200 ] && ok || bad "$r"
T=vm-runs-on; sleep 0.3; d=$(stat -c %s "$work/tick.log"); sleep 0.5; e=$(stat -c %s "$work/tick.log")
[ "$e" -gt "$d" ] && ok || bad "guest output stopped ($d -> $e)"

echo "--- measurements"
T=request-latency; r=$(python3 "$here/rawclient.py" "$S" latency 1000) && ok "$r" || bad "$r"
T=rss; rss=$(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$vmpid/status")
thr=$(ls "/proc/$vmpid/task" | wc -l)
[ -n "$rss" ] && ok "ckvm with the API thread: VmRSS $rss, $thr threads" || bad "no RSS"

echo "--- ckvm ctl"
T=ctl-info; r=$("$ckvm" ctl --api-sock "$S" info) && grep -q '"state":"Running"' <<<"$r" && ok || bad "$r"
T=ctl-pause; "$ckvm" ctl --api-sock "$S" pause && api GET / && grep -q Paused <<<"$BODY" && ok || bad "$BODY"
T=ctl-resume; "$ckvm" ctl --api-sock "$S" resume && api GET / && grep -q Running <<<"$BODY" && ok || bad "$BODY"
T=ctl-config; r=$("$ckvm" ctl --api-sock "$S" config) && grep -q '"machine-config"' <<<"$r" && ok || bad "$r"
T=ctl-refused; "$ckvm" ctl --api-sock "$S" bogus 2>/dev/null; [ $? -eq 1 ] && ok || bad "status"
T=ctl-metrics; api PUT /metrics "{\"metrics_path\":\"$work/metrics.json\"}"
"$ckvm" ctl --api-sock "$S" flush-metrics && grep -q '"vcpu_exits":{"io":[1-9]' "$work/metrics.json" &&
	ok || bad "$(cat "$work/metrics.json")"
T=ctl-shutdown; "$ckvm" ctl --api-sock "$S" shutdown && stopped 0
T=ctl-no-server; "$ckvm" ctl --api-sock "$S" info 2>/dev/null; [ $? -eq 2 ] && ok || bad "status"

echo "--- ckvm --api-sock PATH: configured over the API"
T=wait-starts; start --api-sock "$S" && ok || bad "no socket"
T=wait-state; api GET /; expect 200 '"state":"Not started"'
T=wait-running-call; api PATCH /vm '{"state":"Paused"}'; expect 400 'needs a running VM'
T=put-logger; api PUT /logger "{\"log_path\":\"$work/ckvm.log\",\"level\":\"Debug\"}"; expect 204
T=put-machine; api PUT /machine-config '{"vcpu_count":1,"mem_size_mib":64}'; expect 204
T=put-boot; api PUT /boot-source "{\"kernel_image_path\":\"$cdir/wait.elf\"}"; expect 204
T=put-drive; head -c 1048576 /dev/zero > "$work/disk.img"; head -c 1048576 /dev/zero > "$work/disk2.img"
api PUT /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$work/disk.img\",\"is_root_device\":false}"
expect 204
T=put-drive-same-file; api PUT /drives/other "{\"drive_id\":\"other\",\"path_on_host\":\"$work/disk.img\",\"is_root_device\":false}"
expect 204
T=start-refused-by-cli-checks; api PUT /actions '{"action_type":"InstanceStart"}'
expect 400 'InstanceStart: disk .*given twice'	# config_validate's own rule, as for two --disk
T=still-not-started; api GET /; expect 200 'Not started'
T=put-drive-fixed; api PUT /drives/other "{\"drive_id\":\"other\",\"path_on_host\":\"$work/disk2.img\",\"is_root_device\":false,\"is_read_only\":true}"
expect 204
T=machine-after; api GET /machine-config; expect 200 '"mem_size_mib":64'
T=instance-start; api PUT /actions '{"action_type":"InstanceStart"}'; expect 204
T=started; wait_serial "$work/out" READY && ok || bad "no READY on stdout"
T=started-state; api GET /; expect 200 'Running'
T=started-config; api GET /vm/config; expect 200 '"drive_id":"other".*"is_read_only":true'
T=logger-file; grep -q "debug" "$work/ckvm.log" && ok || bad "nothing in the log file"
T=swap-drive; head -c 2097152 /dev/zero > "$work/disk3.img"
api PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$work/disk3.img\"}"; expect 204
T=swap-config; api GET /vm/config; expect 200 "\"path_on_host\":\"$work/disk3.img\""
T=swap-capacity; grep -qs "vblk0: now backed by $work/disk3.img (4096 sectors)" "$work/err" "$work/ckvm.log" &&
	ok || bad "no line with the new capacity"
T=swap-back; api PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$work/disk.img\"}"
expect 204	# disk.img's lock was dropped when it was swapped out
T=swap-missing; api PATCH /drives/scratch '{"drive_id":"scratch","path_on_host":"/nonexistent/x.img"}'
expect 400 '"fault_message":"drive scratch: .*/nonexistent/x.img.*No such file'
T=swap-missing-keeps; api GET /vm/config; expect 200 "\"path_on_host\":\"$work/disk.img\""
T=swap-locked; api PATCH /drives/scratch "{\"drive_id\":\"scratch\",\"path_on_host\":\"$work/disk2.img\"}"
expect 400 'locked'	# read-only drive "other" holds it: no writer next to it
T=swap-paused; api PATCH /vm '{"state":"Paused"}' && api PATCH /drives/other \
	"{\"drive_id\":\"other\",\"path_on_host\":\"$work/disk3.img\"}"; expect 204
T=swap-resumed; api PATCH /vm '{"state":"Resumed"}'; expect 204
T=swap-runs-on; api GET /; expect 200 'Running'
T=sigterm-ends; kill -TERM "$vmpid"; stopped 0

echo "--- failures and signals before start"
T=start-fails; start --api-sock "$S" && api PUT /boot-source "{\"kernel_image_path\":\"$work/disk.img\"}" &&
	api PUT /actions '{"action_type":"InstanceStart"}'
expect 400 'InstanceStart failed: kernel .*not a bzImage or ELF'
T=start-fails-exit; stopped 1
T=sigterm-waiting; start --api-sock "$S" && kill -TERM "$vmpid"; stopped 0
T=shutdown-waiting; start --api-sock "$S" && api PUT /actions '{"action_type":"Shutdown"}'; stopped 0
T=stale-socket; python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('$S')"
start --api-sock "$S" && api GET / && [ "$CODE" = 200 ] && ok || bad "stale socket not replaced"
kill -TERM "$vmpid"; wait "$vmpid"; vmpid=
T=not-a-socket; echo keep > "$S"; "$ckvm" --api-sock "$S" 2>/dev/null; rc=$?
[ "$rc" -eq 1 ] && [ "$(cat "$S")" = keep ] && ok || bad "status $rc"; rm -f "$S"

echo "--- --config-file"
cat > "$work/vm.json" <<JSON
{ "boot-source": { "kernel_image_path": "$cdir/wait.elf" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 32 } }
JSON
T=config-file-no-api; "$ckvm" --config-file "$work/vm.json" --no-api </dev/null >"$work/out" 2>"$work/err" &
vmpid=$!
wait_serial "$work/out" READY && ok || bad "no READY"
kill -TERM "$vmpid"; wait "$vmpid"; rc=$?; vmpid=
T=config-file-exit; [ "$rc" -eq 0 ] && ok || bad "status $rc"
T=config-file-api; start --config-file "$work/vm.json" --api-sock "$S" && wait_serial "$work/out" READY &&
	api GET /vm/config && grep -q '"mem_size_mib":32' <<<"$BODY" && ok || bad "$BODY"
api PUT /boot-source "{\"kernel_image_path\":\"$cdir/wait.elf\"}"
T=config-file-preboot-closed; expect 400 'pre-boot'
kill -TERM "$vmpid"; T=config-file-api-exit; stopped 0
T=config-file-bad; echo '{"boot-source":{"kernel_image_path":"/nonexistent"}}' > "$work/bad.json"
"$ckvm" --config-file "$work/bad.json" --no-api </dev/null >/dev/null 2>"$work/err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "kernel_image_path /nonexistent" "$work/err" && ok || bad "status $rc"

echo "--- SendCtrlAltDel through the i8042"
T=ctrl-alt-del; start run --kernel "$gdir/cad.elf" --test-exit --serial "file=$work/cad.log" --api-sock "$S" &&
	wait_serial "$work/cad.log" READY && api PUT /actions '{"action_type":"SendCtrlAltDel"}'
expect 204
T=ctrl-alt-del-seen; stopped 67
grep -q CAD "$work/cad.log" || bad "the guest did not see the keys"

. "$here/vdevs.sh"	# PUT /vsock, /entropy, /balloon; --config-file with them
. "$here/snapshot.sh"	# snapshot / restore
. "$here/migrate.sh"	# live migration

echo "api: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
