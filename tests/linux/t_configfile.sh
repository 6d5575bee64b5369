# configfile: the default guest started by `ckvm --config-file` (Firecracker's JSON shape:
# boot-source, machine-config with 2 vCPUs, a read-only drive) with --api-sock, managed by
# `ckvm ctl`: info says Running, pause and resume change the state, init's boot markers come in
# order with 2 CPUs, the guest reboots, ckvm exits 0 and removes its socket.
S=$WORK/cf.sock
OUT=$WORK/$T.serial
FAILS=
truncate -s 8M "$WORK/cf-drive.img"
cat > "$WORK/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$CACHE/bzImage", "initrd_path": "$CACHE/initramfs.cpio",
                 "boot_args": "console=ttyS0 quiet ckvm.test=boot"},
 "machine-config": {"vcpu_count": 2, "mem_size_mib": 128},
 "drives": [{"drive_id": "data", "path_on_host": "$WORK/cf-drive.img", "is_root_device": false,
             "is_read_only": true}]}
JSON
ctl() { "$CKVM" ctl --api-sock "$S" "$@" 2>&1; }
start=$(date +%s.%N)
timeout -k 5 "$TIMEOUT" "$CKVM" --config-file "$WORK/vm.json" --api-sock "$S" \
	</dev/null >"$OUT" 2>"$WORK/$T.stderr" &
VMPID=$!
# The socket answers once ckvm has read the file (ctl exits 2 while nothing answers); the
# state is "Not started" until the kernel is loaded and the vCPUs run, which on a loaded host
# can take seconds (the host decompresses the bzImage first). Poll until it leaves that state.
info=
for _ in $(seq 1200); do
	if info=$(ctl info) && ! grep -q '"state":"Not started"' <<<"$info"; then break; fi
	kill -0 "$VMPID" 2>/dev/null || break
	sleep 0.05
done
grep -q '"state":"Running"' <<<"$info" || FAILS="$FAILS [info: $info]"
r=$(ctl pause) || FAILS="$FAILS [pause: $r]"
info=$(ctl info); grep -q '"state":"Paused"' <<<"$info" || FAILS="$FAILS [info while paused: $info]"
r=$(ctl resume) || FAILS="$FAILS [resume: $r]"
info=$(ctl info); grep -q '"state":"Running"' <<<"$info" || FAILS="$FAILS [info after resume: $info]"
cfg=$(ctl config); grep -q '"vcpu_count":2' <<<"$cfg" || FAILS="$FAILS [config: $cfg]"
wait "$VMPID"
RC=$?
SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
[ -s "$WORK/$T.stderr" ] && sed 's/^/  ckvm: /' "$WORK/$T.stderr" | head -5
if [ "$RC" -ne 0 ]; then
	bad "exit status $RC$FAILS"
elif [ -n "$FAILS" ]; then
	bad "$FAILS"
elif ! why=$(in_order CKVM-RELEASE CKVM-UPTIME CKVM-CPU CKVM-RTC CKVM-NPROC CKVM-DONE); then
	bad "$why"
elif [ "$(marker CKVM-NPROC)" != 2 ]; then
	bad "the guest has $(marker CKVM-NPROC) CPUs, not the file's 2"
elif [ -e "$S" ]; then
	bad "the socket file is left behind"
else
	ok "Running, Paused, Running through ckvm ctl; init at uptime $(marker CKVM-UPTIME)s with 2 CPUs; exit 0 after ${SECS}s"
fi
