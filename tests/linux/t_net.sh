# net: a network namespace made by the test holds a tap; ckvm runs inside it with --net tap=...;
# the guest configures 10.77.0.2/24, pings the host side (10.77.0.1) and fetches 512 KiB over TCP
# from a busybox nc server there, comparing sha256. No address outside the namespace is used.
NS=ckvm-$T-$$	# unique per test and run (run.sh: lane-safe names)
TAP=ckvmtap0
head -c 524288 /dev/urandom > "$WORK/net.bin"
want=$(sha256sum "$WORK/net.bin" | cut -d' ' -f1)
if ! ip netns add "$NS" 2>"$WORK/ns.err"; then
	bad "cannot create network namespace: $(cat "$WORK/ns.err")"
else
	ip -n "$NS" link set lo up
	ip -n "$NS" tuntap add dev "$TAP" mode tap vnet_hdr
	ip -n "$NS" addr add 10.77.0.1/24 dev "$TAP"
	ip -n "$NS" link set "$TAP" up
	ip netns exec "$NS" busybox nc -l -p 5555 < "$WORK/net.bin" > /dev/null 2>&1 &
	NCPID=$!
	OUT=$WORK/$T.serial
	start=$(date +%s.%N)
	timeout -k 5 "$TIMEOUT" ip netns exec "$NS" "$CKVM" run --kernel "$CACHE/bzImage" \
		--initrd "$CACHE/initramfs.cpio" --memory 128M --serial "file=$OUT" \
		--net "tap=$TAP,mac=52:54:00:12:34:56" \
		--cmdline "console=ttyS0 ckvm.test=net ckvm.ip=10.77.0.2/24 ckvm.peer=10.77.0.1" \
		</dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr"
	RC=$?
	SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	kill "$NCPID" 2>/dev/null; wait "$NCPID" 2>/dev/null
	ip netns del "$NS"
	if [ "$RC" -ne 0 ]; then
		bad "exit status $RC"
	elif [ "$(marker CKVM-PING)" != ok ]; then
		bad "ping: $(marker CKVM-PING)"
	elif [ "$(marker CKVM-NET-SHA)" != "$want" ]; then
		bad "TCP data sha256 '$(marker CKVM-NET-SHA)' (bytes $(marker CKVM-NET-BYTES)), sent $want"
	else
		ok "ping ok, 512 KiB TCP transfer checksum matched, ${SECS}s"
	fi
fi
