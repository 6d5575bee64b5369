# api: firecracker-go-sdk's start sequence, replayed with curl --unix-socket against
# `ckvm --api-sock`: poll GET /machine-config until the socket answers, PUT /logger, /metrics,
# /machine-config, /boot-source, /drives/rootfs, /network-interfaces/eth0 (a tap in a network
# namespace made by the test), PUT /actions InstanceStart. Then in the guest's shell a loop prints
# TICK-n every second: PATCH /vm Paused must stop it for 25 s (GET / says Paused) with no RCU stall
# report after PATCH /vm Resumed (KVM_KVMCLOCK_CTRL), and the ticks go on.
# Drive swap: rootfs.img (16 MiB, MARK1 at offset 0) is swapped for rootfs2.img (32 MiB, MARK2) by
# PATCH /drives/rootfs (204); the guest reads the first sector of /dev/vda with O_DIRECT (no page
# cache) and /sys/block/vda/size before (MARK1 32768) and after (MARK2 65536). A failed swap is
# reported as such and the test goes on to Ctrl+Alt+Del: PUT /actions SendCtrlAltDel types the keys
# on the i8042, the guest kernel (atkbd + VT keyboard) restarts ("reboot: Restarting system"), and
# ckvm must exit 0 by itself within CAD_SECS and remove its socket.
S=$WORK/api.sock
NS=ckvm-api-$$
TAP=ckvmtap1
OUT=$WORK/$T.serial
FIFO=$WORK/$T.stdin
FAILS=
SWAP_FAIL=
CAD_SECS_TAKEN=
rm -f "$FIFO" "$S"
mkfifo "$FIFO"
MARK1=ckvm-rootfs-one-
MARK2=ckvm-rootfs-two-
CAD_SECS=180	# SendCtrlAltDel to ckvm's exit: a kernel restart at emulated speed, under load
truncate -s 16M "$WORK/rootfs.img"
truncate -s 32M "$WORK/rootfs2.img"
printf '%s' "$MARK1" | dd of="$WORK/rootfs.img" conv=notrunc status=none
printf '%s' "$MARK2" | dd of="$WORK/rootfs2.img" conv=notrunc status=none
# Typed into the guest's shell: "VDA <first 16 bytes of vda, read with O_DIRECT> <size in sectors>".
VDA_READ='l="$(dd if=/dev/vda bs=512 count=1 iflag=direct 2>/dev/null | head -c 16) $(cat /sys/block/vda/size)"; echo "VDA $l"'

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
serial_has() { tr -d '\r' < "$OUT" | grep -q "$1"; }
# drive_swap: the guest sees MARK1 and 16 MiB, PATCH /drives/rootfs, then MARK2 and 32 MiB.
drive_swap() {
	printf '%s\n' "$VDA_READ" >&3
	if ! wait_for 120 serial_has "^VDA $MARK1 32768\$"; then
		SWAP_FAIL="before the swap the guest did not read '$MARK1 32768': $(tr -d '\r' < "$OUT" | grep '^VDA ' | tail -n 1)"
		return
	fi
	api PATCH /drives/rootfs "{\"drive_id\":\"rootfs\",\"path_on_host\":\"$WORK/rootfs2.img\"}"
	if [ "$CODE" != 204 ]; then
		SWAP_FAIL="PATCH /drives/rootfs: HTTP $CODE, expected 204: $BODY"
		return
	fi
	# The new size reaches the guest through a config-change interrupt: read until both match.
	printf 'for i in 1 2 3 4 5 6 7 8 9 10; do %s; [ "$l" = "%s 65536" ] && break; sleep 1; done; echo VDA-DONE\n' \
		"$VDA_READ" "$MARK2" >&3
	wait_for 150 serial_has '^VDA-DONE' || true
	serial_has "^VDA $MARK2 65536\$" ||
		SWAP_FAIL="after PATCH 204 the guest did not read '$MARK2 65536': $(tr -d '\r' < "$OUT" | grep '^VDA ' | tail -n 1)"
}

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
		printf 'kill $!\n' >&3		# the ticker: quiet serial lines for the drive checks
		drive_swap
		cad_start=$(date +%s.%N)
		step ctrl-alt-del 204 PUT /actions '{"action_type":"SendCtrlAltDel"}'
		# Wait for ckvm itself to end (tail --pid), bounded; no reboot typed on its behalf.
		if timeout "$CAD_SECS" tail --pid="$VMPID" -f /dev/null; then
			CAD_SECS_TAKEN=$(printf '%.1f' "$(echo "$(date +%s.%N) - $cad_start" | bc)")
		else
			FAILS="$FAILS [ckvm still running ${CAD_SECS}s after SendCtrlAltDel]"
			printf 'reboot -f\n' >&3	# end the VM so the test finishes (and fails)
		fi
	fi
	wait "$VMPID"
	RC=$?
	exec 3>&-
	ip netns del "$NS"
	SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	plat=$(sed -n 's/.*out of KVM_RUN in \([0-9]*\) us/\1/p' "$WORK/$T.log" | head -n 1)
	clk=$(tail -n 1 "$WORK/$T.metrics" 2>/dev/null | sed -n 's/.*"kvmclock_ctrl":\([0-9]*\).*/\1/p')
	if [ "$RC" -ne 0 ]; then
		bad "exit status $RC$FAILS${SWAP_FAIL:+ [drive swap: $SWAP_FAIL]}"
	elif [ -n "$FAILS" ]; then
		bad "$FAILS${SWAP_FAIL:+ [drive swap: $SWAP_FAIL]}"
	elif ! serial_has 'reboot: Restarting system'; then
		bad "ckvm exited 0 but the guest kernel never printed 'reboot: Restarting system' (Ctrl+Alt+Del not obeyed)${SWAP_FAIL:+ [drive swap: $SWAP_FAIL]}"
	elif tr -d '\r' < "$OUT" | grep -Eiq 'rcu.*stall|soft lockup|hung task'; then
		bad "a stall report after the pause: $(grep -Ei 'rcu.*stall|soft lockup|hung task' "$OUT" | head -n 2)"
	elif [ -e "$S" ]; then
		bad "the socket file is left behind"
	elif [ -n "$SWAP_FAIL" ]; then
		bad "drive swap: $SWAP_FAIL (the rest passed: Ctrl+Alt+Del rebooted the guest, ckvm exited 0 ${CAD_SECS_TAKEN}s after it)"
	else
		ok "SDK sequence 204s, shell after ${PROMPT_SECS}s, TICK stopped at $n1 for 25 s while paused (pause ${plat:-?} us, kvmclock_ctrl ${clk:-?}), resumed to $n3, vda swapped 16->32 MiB, Ctrl+Alt+Del reboot and exit 0 ${CAD_SECS_TAKEN}s after it, ${SECS}s in all"
	fi
fi
