# vunet: a NIC whose queues dpdk-testpmd serves over vhost-user (--memory 128M,shared=on --net
# vhost_user=on,socket=S,mac=M); testpmd forwards in macswap mode, so every frame the guest sends
# comes back with the MACs swapped. The guest's vunet mode pings a made-up neighbour (static ARP
# entry): its RX counters must grow by at least the number of pings, and testpmd's own port stats
# show the frames. On the guest's CKVM-VUNET-PHASE1 the host SIGKILLs testpmd; the guest then sees
# RX stop and powers off. ckvm must stay up with one line about the hang-up and exit with status 0.
# One boot. Every file is under $WORK and named with $T; testpmd's runtime directory is its own.
TESTPMD=$(command -v dpdk-testpmd)
VUSOCK=$WORK/$T.sock
VUMAC=52:54:00:c0:ff:ee
VUPREFIX=ckvm-$T-$$
# tp_stat RX|TX FIELD: the newest periodic port stats line of testpmd (FIELD 2: packets, 6: bytes)
tp_stat() { grep -a "^ *$1-packets:" "$WORK/$T.testpmd" | tail -n 1 | awk -v f="$2" '{ print $f + 0 }'; }
if [ -z "$TESTPMD" ]; then
	bad "dpdk-testpmd missing (scripts/deps.sh test installs dpdk-dev)"
else
	OUT=$WORK/$T.serial
	rm -f "$VUSOCK"
	# --no-huge -m 512: no huge pages on this host; 2048 mbufs fit that (the default pool does not);
	# lcore 1 forwards, lcore 0 prints the port stats every second
	"$TESTPMD" --no-huge -m 512 -l 0-1 --no-pci --file-prefix "$VUPREFIX" \
		--vdev "net_vhost0,iface=$VUSOCK,queues=1,client=0" -- --forward-mode=macswap --auto-start \
		--stats-period 1 --total-num-mbufs=2048 >"$WORK/$T.testpmd" 2>&1 &
	TPID=$!
	for _ in $(seq 600); do [ -S "$VUSOCK" ] && break; kill -0 "$TPID" 2>/dev/null || break; sleep 0.1; done
	# lcore 1 busy-polls: at nice 19 it takes a small share of a CPU from the guest's boot instead of
	# a whole one (a frame waits a scheduler slice at most; the guest waits a second for each). Nice
	# is per thread, and only now do they all exist (at nice 19 from the start, its set-up crawls).
	for t in "/proc/$TPID/task/"*; do renice -n 19 -p "${t##*/}" >/dev/null 2>&1; done
	start=$(date +%s.%N)
	timeout -k 5 "$TIMEOUT" "$CKVM" run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" \
		--memory 128M,shared=on --serial "file=$OUT" \
		--cmdline "console=ttyS0 ckvm.test=vunet ckvm.ip=10.99.0.2/24 ckvm.peer=10.99.0.1" \
		--net "vhost_user=on,socket=$VUSOCK,mac=$VUMAC" </dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr" &
	CPID=$!
	for _ in $(seq "$TIMEOUT"); do
		has CKVM-VUNET-PHASE1 2>/dev/null && break
		kill -0 "$CPID" 2>/dev/null || break
		sleep 1
	done
	# testpmd's stats come once a second: wait (bounded) for a line that counts the guest's pings
	n=$(marker CKVM-VUNET-N); n=${n:-20}
	for _ in $(seq 50); do
		[ "$(tp_stat RX 2)" -ge "$n" ] 2>/dev/null && [ "$(tp_stat TX 2)" -ge "$n" ] && break
		sleep 0.2
	done
	tp_rx=$(tp_stat RX 2); tp_rxb=$(tp_stat RX 6); tp_tx=$(tp_stat TX 2)
	kill -KILL "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null
	for _ in $(seq 300); do
		grep -q "closed the connection" "$WORK/$T.stderr" && break
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.1
	done
	alive=no; kill -0 "$CPID" 2>/dev/null && alive=yes
	wait "$CPID"; RC=$?
	SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	rm -rf "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$VUPREFIX" "/var/run/dpdk/$VUPREFIX"
	lines=$(grep -c "closed the connection" "$WORK/$T.stderr")
	read -r rx0 rxb0 <<<"$(marker CKVM-VUNET-RX0)"
	read -r rx1 rxb1 <<<"$(marker CKVM-VUNET-RX1)"
	read -r rx2 _ <<<"$(marker CKVM-VUNET-RX2)"
	read -r rx3 _ <<<"$(marker CKVM-VUNET-RX3)"
	grew=$(( ${rx1:-0} - ${rx0:-0} ))
	if [ -z "$tp_rx" ]; then
		bad "testpmd printed no port stats: $(grep -a -m 3 -i 'error\|cause' "$WORK/$T.testpmd")"
	elif ! has CKVM-VUNET-PHASE1; then
		bad "the guest never finished phase 1 (status $RC): $(tail -n 2 "$WORK/$T.stderr")"
	elif ! grep -q '^CKVM-PCI 0000:00:01.0 1af4:1041 020000' "$OUT"; then
		bad "guest's PCI list lacks virtio-net 1af4:1041 at 00:01.0: $(grep CKVM-PCI "$OUT" | tr '\n' ' ')"
	elif [ "$(marker CKVM-VUNET-MAC)" != "$VUMAC" ]; then
		bad "guest's eth0 has MAC '$(marker CKVM-VUNET-MAC)', --net gave $VUMAC"
	elif [ "$grew" -lt "$n" ]; then
		bad "the guest's rx_packets grew by $grew over $n pings (RX0 '$rx0', RX1 '$rx1')"
	elif [ "$tp_rx" -lt "$n" ] || [ "$tp_tx" -lt "$n" ]; then
		bad "testpmd counted RX $tp_rx, TX $tp_tx frames; the guest sent $n pings"
	elif [ "$alive" != yes ]; then
		bad "ckvm ended when the back-end died (status $RC): $(tail -n 2 "$WORK/$T.stderr")"
	elif [ "$lines" -ne 1 ]; then
		bad "$lines lines about the hang-up, expected 1: $(tail -n 3 "$WORK/$T.stderr")"
	elif ! has CKVM-VUNET-DONE || [ -z "$rx2" ] || [ "$rx3" != "$rx2" ]; then
		bad "after the back-end died the guest's RX went $rx2 -> $rx3 (or it did not finish)"
	elif [ "$RC" -ne 0 ]; then
		bad "exit status $RC after the guest powered off"
	else
		ok "testpmd macswap: $n pings came back (guest rx +$grew frames, +$(( rxb1 - rxb0 )) bytes; testpmd RX $tp_rx/$tp_rxb bytes, TX $tp_tx), testpmd killed: one line, guest RX stayed at $rx3, status 0, ${SECS}s"
	fi
fi
