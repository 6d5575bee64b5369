# snapmig: snapshot/restore and then live migration of the restored VM, in ONE boot (each boot costs
# minutes on a software-KVM host), with a disk and a NIC. A network namespace made by the test holds
# a bridge br0 (10.77.0.1/24, the peer) with two taps: ckvmtap0 for the first VM and its restore,
# ckvmtap1 for the migration's destination (a tap is attached to one process at a time, and the
# destination opens its own before the source lets go of its). Through the guest's shell (typed on
# its console) the guest configures 10.77.0.2/24, mounts an ext4 image, pings the peer, and runs a
# loop that prints SEQ-n on the console and appends n to /mnt/seq with sync, every second.
#  1. the VM is paused, snapshotted (ckvm ctl snapshot), killed with SIGKILL and restored in a new
#     ckvm (--restore, same options and tap);
#  2. the restored VM is live-migrated (ckvm ctl migrate) over a unix socket to a ckvm started with
#     --incoming and the same disk path (shared storage: the lock moves at the switch-over);
#  3. on the destination the guest stops its loop, syncs, unmounts and powers off.
# Checks: no number missing or repeated across the three consoles; the file on the disk holds
# 1..N with N the last number printed (or the one before it: the loop may be stopped between its
# echo and its append); e2fsck -fn clean; the peer's pings (one probe every 0.5 s from the
# namespace) are answered after the restore and after the migration, and the guest's own ping
# log ends with replies; the migration source exits 0; the destination exits 0 at poweroff; a
# typed line is answered after each switch; the guest announces itself (a gratuitous ARP on the
# destination's tap); no stall report. Prints the downtime and the gaps.
NS=ckvm-snapmig-$$
S=$WORK/sm.api.sock
S2=$WORK/sm.api2.sock
M=$WORK/sm.mig.sock
IMG=$WORK/sm.disk.img
OUT=$WORK/$T.serial
OUT2=$WORK/$T.restored.serial
OUT3=$WORK/$T.dest.serial
PINGLOG=$WORK/$T.ping
FAILS=
rm -f "$S" "$S2" "$M" "$IMG" "$WORK/$T".stdin*
mkfifo "$WORK/$T.stdin1" "$WORK/$T.stdin2" "$WORK/$T.stdin3"
seqs() { tr -d '\r' < "$1" | grep -c 'SEQ-[0-9]*$'; }
wait_for() {	# wait_for SECONDS COMMAND...: until it succeeds or the VM ends
	local end=$(( $(date +%s) + $1 ))
	shift
	while ! "$@"; do
		kill -0 "$VMPID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}
has_in() { tr -d '\r' < "$1" | grep -q "$2"; }
wait_exit() {	# wait_exit PID: bounded (2 min), then SIGKILL; sets RC
	for _ in $(seq 600); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
	RC=$?
}
now() { date +%s.%N; }
ms_since() { printf '%.0f' "$(echo "($(now) - $1) * 1000" | bc)"; }
# replies_after T: how many of the peer's probes after time T were answered
replies_after() { awk -v t="$1" '$1 > t && $2 == "ok"' "$PINGLOG" | wc -l; }
# max_gap T U: the longest time in seconds between two answered probes, the later one in (T, U]
# (from the last answer before T: the switch-over's gap as the peer sees it)
max_gap() {
	awk -v t="$1" -v u="$2" '$2 == "ok" { if (p && $1 > t && $1 <= u && $1 - p > g) g = $1 - p; p = $1 }
		       END { printf "%.1f", g }' "$PINGLOG"
}

if ! ip netns add "$NS" 2>"$WORK/ns.err"; then
	bad "cannot create network namespace: $(cat "$WORK/ns.err")"
elif ! mkfs.ext4 -q -F "$IMG" 32M >/dev/null; then
	bad "mkfs.ext4 failed"
	ip netns del "$NS"
else
	ip -n "$NS" link set lo up
	ip -n "$NS" link add br0 type bridge
	ip -n "$NS" addr add 10.77.0.1/24 dev br0
	ip -n "$NS" link set br0 up
	for tap in ckvmtap0 ckvmtap1; do
		ip -n "$NS" tuntap add dev "$tap" mode tap vnet_hdr
		ip -n "$NS" link set "$tap" master br0
		ip -n "$NS" link set "$tap" up
	done
	ARGS=(run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" --memory 128M
	      --disk "path=$IMG" --cmdline "console=ttyS0 ckvm.test=shell quiet")
	MAC=mac=52:54:00:12:34:56
	start=$(now)
	# ckvm itself in the background (ip netns exec execs it, no wrapper): SIGKILL must reach
	# ckvm. Every wait below is bounded.
	ip netns exec "$NS" "$CKVM" "${ARGS[@]}" --net "tap=ckvmtap0,$MAC" --api-sock "$S" \
		<"$WORK/$T.stdin1" >"$OUT" 2>"$WORK/$T.stderr" &
	VMPID=$!
	exec 3>"$WORK/$T.stdin1"
	if ! wait_for "$TIMEOUT" has_in "$OUT" '^busybox shell'; then
		bad "no shell banner"
		kill -KILL "$VMPID" 2>/dev/null; wait "$VMPID" 2>/dev/null
		exec 3>&-
		ip netns del "$NS"
	else
		BOOT_S=$(printf '%.0f' "$(echo "$(now) - $start" | bc)")
		printf 'ip addr add 10.77.0.2/24 dev eth0; ip link set eth0 up; mount -t ext4 /dev/vda /mnt && echo "MNT-$((1 + 1))"\n' >&3
		wait_for 120 has_in "$OUT" '^MNT-2' || FAILS="$FAILS [guest: no eth0 or no mount]"
		printf 'ping 10.77.0.1 >/tmp/gping.log 2>&1 & P=$!\n' >&3
		printf 'i=0; while :; do i=$((i+1)); echo "SEQ-$i"; echo "$i" >>/mnt/seq; sync; sleep 1; done & L=$!\n' >&3
		# the peer: one probe every 0.5 s, each answered or not, with its time
		( while :; do
			if ip netns exec "$NS" busybox ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1; then
				echo "$(now) ok"; sleep 0.5
			else
				echo "$(now) lost"
			fi
		  done ) >"$PINGLOG" 2>/dev/null &
		PPID_=$!
		wait_for 120 eval '[ "$(seqs "$OUT")" -ge 4 ]' || FAILS="$FAILS [no SEQ lines]"
		wait_for 60 eval '[ "$(replies_after 0)" -ge 2 ]' || FAILS="$FAILS [the peer's pings unanswered before the snapshot]"

		# 1. snapshot, SIGKILL, restore
		"$CKVM" ctl --api-sock "$S" pause >/dev/null 2>>"$WORK/$T.ctl" || FAILS="$FAILS [pause failed]"
		t0=$(now)
		"$CKVM" ctl --api-sock "$S" snapshot --to "$WORK/snap" >/dev/null 2>>"$WORK/$T.ctl" ||
			FAILS="$FAILS [snapshot failed: $(cat "$WORK/$T.ctl")]"
		SNAP_MS=$(ms_since "$t0")
		kill -KILL "$VMPID"; wait "$VMPID" 2>/dev/null
		kill -0 "$VMPID" 2>/dev/null && FAILS="$FAILS [the snapshotted ckvm survived SIGKILL]"
		exec 3>&-
		n1=$(seqs "$OUT")
		# the migration's destination waits already (nothing runs there before the stream ends)
		ip netns exec "$NS" "$CKVM" "${ARGS[@]}" --net "tap=ckvmtap1,$MAC" --incoming "unix:$M" \
			<"$WORK/$T.stdin3" >"$OUT3" 2>"$WORK/$T.stderr3" &
		DPID=$!
		exec 4>"$WORK/$T.stdin3"
		t_restore=$(now)
		ip netns exec "$NS" "$CKVM" "${ARGS[@]}" --net "tap=ckvmtap0,$MAC" --api-sock "$S2" \
			--restore "$WORK/snap" <"$WORK/$T.stdin2" >"$OUT2" 2>"$WORK/$T.stderr2" &
		VMPID=$!
		exec 3>"$WORK/$T.stdin2"
		wait_for 120 eval '[ "$(seqs "$OUT2")" -ge 4 ]' || FAILS="$FAILS [no SEQ lines after the restore]"
		RESTORE_S=$(printf '%.1f' "$(echo "$(now) - $t_restore" | bc)")
		printf 'echo "TYPED-$((6 * 7))"\n' >&3
		wait_for 120 has_in "$OUT2" '^TYPED-42' || FAILS="$FAILS [the restored shell did not answer a typed line]"
		wait_for 60 eval '[ "$(replies_after "$t_restore")" -ge 2 ]' ||
			FAILS="$FAILS [the peer's pings unanswered after the restore]"

		# 2. live migration of the restored VM, mid-workload. A raw socket on the destination's tap
		# waits for the guest's gratuitous ARP (sender = target = its address): the announce
		# that VIRTIO_NET_F_GUEST_ANNOUNCE asks for (its other traffic would also teach the
		# bridge, so this is what shows the announce itself).
		ip netns exec "$NS" python3 - ckvmtap1 10.77.0.2 180 >"$WORK/$T.garp" 2>&1 <<'PY' &
import socket, struct, sys, time
ifname, ip, secs = sys.argv[1], socket.inet_aton(sys.argv[2]), float(sys.argv[3])
# ETH_P_ALL: a socket for one protocol on a bridge port never sees what the bridge takes in
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
end = time.time() + secs
print("LISTENING", flush=True)
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        f, addr = s.recvfrom(2048)
    except socket.timeout:
        break
    # from the guest (not sent by the host: PACKET_OUTGOING is 4), an ARP frame (Ethernet 14 bytes,
    # then ARP: op at 6, sender IP at 14, target IP at 24)
    if addr[2] != 4 and len(f) >= 42 and f[12:14] == b"\x08\x06" and f[28:32] == ip and f[38:42] == ip:
        print("GARP op %d" % struct.unpack("!H", f[20:22])[0], flush=True)
        sys.exit(0)
sys.exit(1)
PY
		GARPID=$!
		wait_for 30 has_in "$WORK/$T.garp" '^LISTENING' || FAILS="$FAILS [the ARP listener did not start: $(head -c 200 "$WORK/$T.garp")]"
		t_mig=$(now)
		"$CKVM" ctl --api-sock "$S2" migrate --to "unix:$M" >/dev/null 2>>"$WORK/$T.ctl" ||
			FAILS="$FAILS [migrate failed: $(cat "$WORK/$T.ctl")]"
		wait_exit "$VMPID"
		exec 3>&-
		[ "$RC" -eq 0 ] || FAILS="$FAILS [migration source: exit status $RC: $(grep migrat "$WORK/$T.stderr2" | tail -n 2)]"
		n2=$(seqs "$OUT2")
		MIGLINE=$(grep -o 'migrated to .*' "$WORK/$T.stderr2" | sed 's/.*: //')
		VMPID=$DPID
		OUT=$OUT3	# for bad()'s serial tail from here on
		wait_for 120 eval '[ "$(seqs "$OUT3")" -ge 4 ]' || FAILS="$FAILS [no SEQ lines on the destination]"
		printf 'echo "TYPED-$((6 * 7))"\n' >&4
		wait_for 120 has_in "$OUT3" '^TYPED-42' || FAILS="$FAILS [the migrated shell did not answer a typed line]"
		wait_for 60 eval '[ "$(replies_after "$t_mig")" -ge 2 ]' ||
			FAILS="$FAILS [the peer's pings unanswered after the migration]"
		wait_exit "$GARPID"	# ends by itself at the first gratuitous ARP or after 180 s
		GARP=$(grep '^GARP' "$WORK/$T.garp")
		[ -n "$GARP" ] || FAILS="$FAILS [no gratuitous ARP from the guest on the destination's tap]"

		# 3. stop the peer's probes (the guest goes away now), the loop and the ping; sync, unmount,
		# power off
		kill "$PPID_" 2>/dev/null; wait "$PPID_" 2>/dev/null
		t_end=$(now)
		printf 'kill $L $P; wait; sync; echo "GPING $(grep -c "bytes from" /tmp/gping.log) $(tail -n 1 /tmp/gping.log)"; umount /mnt && echo "UMNT-$((2 + 1))"; poweroff -f\n' >&4
		wait_exit "$DPID"
		exec 4>&-
		ip netns del "$NS"
		TOTAL_S=$(printf '%.0f' "$(echo "$(now) - $start" | bc)")

		ALL=$(cat "$WORK/$T.serial" "$OUT2" "$OUT3" | tr -d '\r' | sed -n 's/^.*SEQ-\([0-9]*\)$/\1/p')
		SEQ=$(echo "$ALL" | awk '{ if ($1 != n + 1) { print "after " n + 0 " came " $1; exit } n = $1 }')
		last=$(echo "$ALL" | tail -n 1)
		FILESEQ=$(debugfs -R "cat /seq" "$IMG" 2>/dev/null |
			  awk '{ if ($1 != n + 1) { print "BROKEN after " n + 0 " came " $1; exit } n = $1 }
			       END { if (n) print n }')
		GPING=$(tr -d '\r' < "$OUT3" | sed -n 's/^GPING //p' | head -n 1)
		FSCK=$(e2fsck -fn "$IMG" 2>&1)
		FSCK_RC=$?
		if [ "$RC" -ne 0 ]; then
			bad "destination: exit status $RC$FAILS $(head -c 300 "$WORK/$T.stderr3")"
		elif [ -n "$FAILS" ]; then
			bad "$FAILS"
		elif [ -n "$SEQ" ]; then
			bad "console sequence broken across the restore or the migration: $SEQ"
		elif [ -z "$last" ] || [ -z "$FILESEQ" ] || [ "${FILESEQ#BROKEN}" != "$FILESEQ" ] ||
		     [ "$FILESEQ" -lt $((last - 1)) ] || [ "$FILESEQ" -gt "$last" ]; then
			bad "the disk's /seq: '$FILESEQ', the console's last number '$last'"
		elif [ "$FSCK_RC" -ne 0 ]; then
			bad "e2fsck -fn: status $FSCK_RC: $(echo "$FSCK" | tail -n 3 | tr '\n' ' ')"
		elif ! has_in "$OUT3" '^UMNT-3'; then
			bad "the guest could not unmount its disk"
		elif [ "${GPING#* 64 bytes from}" = "$GPING" ]; then
			bad "the guest's ping log: '$GPING'"
		elif cat "$OUT2" "$OUT3" | grep -Eiq 'rcu.*stall|soft lockup|hung task'; then
			bad "a stall report after a switch: $(cat "$OUT2" "$OUT3" | grep -Ei 'rcu.*stall|soft lockup|hung task' | head -n 2)"
		else
			GSEQ=${GPING##*seq=}
			ok "SEQ 1..$n1, restored $n2 more, migrated $(seqs "$OUT3") more, none missing or repeated; disk /seq 1..$FILESEQ (console $last), e2fsck clean; snapshot ${SNAP_MS} ms, restore to 4 lines ${RESTORE_S}s; migration: $MIGLINE; peer's pings: longest gap $(max_gap "$t_restore" "$t_mig")s across the restore, $(max_gap "$t_mig" "$t_end")s across the migration, $(grep -c ' ok$' "$PINGLOG") answered, $(grep -c ' lost$' "$PINGLOG") lost; guest's ping: ${GPING%% *} replies to $((${GSEQ%% *} + 1)) requests; destination's tap saw the guest's $GARP; boot ${BOOT_S}s, test ${TOTAL_S}s"
		fi
	fi
fi
