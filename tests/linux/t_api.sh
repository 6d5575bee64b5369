# api: firecracker-go-sdk's start sequence, replayed with curl --unix-socket against
# `ckvm --api-sock`: poll GET /machine-config until the socket answers, PUT /logger, /metrics,
# /machine-config, /boot-source, /drives/rootfs, /network-interfaces/eth0 (a tap in a network
# namespace made by the test), PUT /actions InstanceStart. Then in the guest's shell a loop prints
# TICK-n every second: PATCH /vm Paused must stop it for 25 s (GET / says Paused) with no RCU stall
# report after PATCH /vm Resumed (KVM_KVMCLOCK_CTRL), and the ticks go on. SendCtrlAltDel is
# accepted; the default guest kernel has no keyboard driver (CONFIG_SERIO/VT off), so the test ends
# the guest with `reboot -f` typed on stdin, and ckvm must exit 0 and remove its socket.
S=$WORK/api.sock
NS=ckvm-api-$$
TAP=ckvmtap1
OUT=$WORK/$T.serial
FIFO=$WORK/$T.stdin
FAILS=
rm -f "$FIFO" "$S"
mkfifo "$FIFO"
truncate -s 16M "$WORK/rootfs.img"

api() {	# api METHOD PATH [BODY]: sets CODE, BODY
	local out
	out=$(curl -s -m 10 --unix-socket "$S" -X "$1" ${3+-H 'Content-Type: application/json' -d "$3"} \
		-w '\n%{http_code}' "http://localhost$2")
	CODE=${out##*$'\n'}; BODY=${out%$'\n'*}
}
step() {	# step NAME CODE METHOD PATH [BODY]: a failure is remembered, the test goes on
	local name=$1 want=$2
	shift 2
	api "$@"
	[ "$CODE" = "$want" ] || FAILS="$FAILS [$name: HTTP $CODE, expected $want: $BODY]"
}
ticks() { tr -d '\r' < "$OUT" | grep -c '^TICK-[0-9]*$'; }
wait_for() {	# wait_for SECONDS COMMAND...: until it succeeds or the VM ends
	local end=$(( $(date +%s) + $1 ))
	shift
	while ! "$@"; do
		kill -0 "$VMPID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}
banner() { grep -q "^busybox shell" "$OUT"; }

if ! ip netns add "$NS" 2>"$WORK/ns.err"; then
	bad "cannot create network namespace: $(cat "$WORK/ns.err")"
else
	ip -n "$NS" link set lo up
	ip -n "$NS" tuntap add dev "$TAP" mode tap vnet_hdr
	ip -n "$NS" link set "$TAP" up
	start=$(date +%s.%N)
	timeout -k 5 "$TIMEOUT" ip netns exec "$NS" "$CKVM" --api-sock "$S" --id api-test \
		<"$FIFO" >"$OUT" 2>"$WORK/$T.stderr" &
	VMPID=$!
	exec 3>"$FIFO"
	# The SDK waits for the socket by polling GET /machine-config.
	for _ in $(seq 100); do api GET /machine-config; [ "$CODE" = 200 ] && break; sleep 0.05; done
	step logger 204 PUT /logger "{\"log_path\":\"$WORK/$T.log\",\"level\":\"Info\",\"show_level\":false,\"show_log_origin\":false}"
	step metrics 204 PUT /metrics "{\"metrics_path\":\"$WORK/$T.metrics\"}"
	step machine-config 204 PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128,"smt":false}'
	step boot-source 204 PUT /boot-source "{\"kernel_image_path\":\"$CACHE/bzImage\",\"initrd_path\":\"$CACHE/initramfs.cpio\",\"boot_args\":\"console=ttyS0 quiet\"}"
	step rootfs 204 PUT /drives/rootfs "{\"drive_id\":\"rootfs\",\"path_on_host\":\"$WORK/rootfs.img\",\"is_root_device\":true,\"is_read_only\":false}"
	step eth0 204 PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"$TAP\",\"guest_mac\":\"52:54:00:12:34:57\"}"
	step instance-start 204 PUT /actions '{"action_type":"InstanceStart"}'
	step pre-boot-closed 400 PUT /machine-config '{"vcpu_count":2,"mem_size_mib":128}'
	api GET /; grep -q '"state":"Running"' <<<"$BODY" || FAILS="$FAILS [state after start: $BODY]"
	if ! wait_for "$TIMEOUT" banner; then
		FAILS="$FAILS [no shell banner]"
	else
		PROMPT_SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
		printf 'i=0; while :; do i=$((i+1)); echo "TICK-$i"; sleep 1; done &\n' >&3
		wait_for 120 eval '[ "$(ticks)" -ge 2 ]' || FAILS="$FAILS [no TICK lines from the guest]"
		step pause 204 PATCH /vm '{"state":"Paused"}'
		api GET /; grep -q '"state":"Paused"' <<<"$BODY" || FAILS="$FAILS [state while paused: $BODY]"
		n1=$(ticks); sleep 25; n2=$(ticks)
		[ "$n1" = "$n2" ] || FAILS="$FAILS [TICK lines went on while paused: $n1 -> $n2]"
		step resume 204 PATCH /vm '{"state":"Resumed"}'
		wait_for 60 eval '[ "$(ticks)" -gt "$n2" ]' || FAILS="$FAILS [no TICK after resume]"
		n3=$(ticks)
		step flush-metrics 204 PUT /actions '{"action_type":"FlushMetrics"}'
		step ctrl-alt-del 204 PUT /actions '{"action_type":"SendCtrlAltDel"}'
		sleep 3	# a guest with an AT keyboard driver would reboot here; this kernel has none
		printf 'reboot -f\n' >&3
	fi
	wait "$VMPID"
	RC=$?
	exec 3>&-
	ip netns del "$NS"
	SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	plat=$(sed -n 's/.*out of KVM_RUN in \([0-9]*\) us/\1/p' "$WORK/$T.log" | head -n 1)
	clk=$(tail -n 1 "$WORK/$T.metrics" 2>/dev/null | sed -n 's/.*"kvmclock_ctrl":\([0-9]*\).*/\1/p')
	if [ "$RC" -ne 0 ]; then
		bad "exit status $RC$FAILS"
	elif [ -n "$FAILS" ]; then
		bad "$FAILS"
	elif tr -d '\r' < "$OUT" | grep -Eiq 'rcu.*stall|soft lockup|hung task'; then
		bad "a stall report after the pause: $(grep -Ei 'rcu.*stall|soft lockup|hung task' "$OUT" | head -n 2)"
	elif [ -e "$S" ]; then
		bad "the socket file is left behind"
	else
		ok "SDK sequence 204s, shell after ${PROMPT_SECS}s, TICK stopped at $n1 for 25 s while paused (pause ${plat:-?} us, kvmclock_ctrl ${clk:-?}), resumed to $n3, exit 0 after ${SECS}s"
	fi
fi
