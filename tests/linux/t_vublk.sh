# vublk: a disk served by qemu-storage-daemon over vhost-user (--memory ...,shared=on --disk
# vhost_user=on,socket=S): a qcow2 overlay whose backing file is a raw ext4 image. The guest's vublk
# mode mounts it, checksums a file on it, writes one, syncs and unmounts; the host flattens the
# overlay with qemu-img and reads the guest's file with debugfs, and the backing file is unchanged.
# vublk-dies, in the same boot: once the guest has unmounted (CKVM-VUBLK-WAIT) the host kills the
# daemon with SIGKILL. ckvm must stay up with one line naming the back-end's hang-up, the guest
# must see the device's NEEDS_RESET status bit, its next read (O_DIRECT) must end in an I/O error
# (ckvm answers requests made after the death itself: orphan mode in src/virtio/vhost_user_dev.c;
# the guest watches it for 20 s), and the guest's poweroff must end ckvm with
# status 0 (a SIGTERM stands in, reported, if the poweroff does not end it within VUBLK_END_SECS).
QSD=$(command -v qemu-storage-daemon)
mkdir -p "$WORK/vublkroot"
head -c 1048576 /dev/urandom > "$WORK/vublkroot/input.bin"
want=$(sha256sum "$WORK/vublkroot/input.bin" | cut -d' ' -f1)
VIMG=$WORK/vublk.img
VQCOW=$WORK/vublk.qcow2
VSOCK=$WORK/vublk.sock
VUBLK_END_SECS=300	# CKVM-VUBLK-WAIT to ckvm's exit: the guest's 20 s watch and its poweroff, under load
# qsd_start FILE [qcow2]: export FILE (raw, or a qcow2 image with its backing chain) on $VSOCK;
# sets QPID; waits (bounded) for the socket
qsd_start() {
	local node=f
	[ "${2:-}" = qcow2 ] && node=q
	rm -f "$VSOCK"
	# shellcheck disable=SC2086
	"$QSD" --blockdev "driver=file,node-name=f,filename=$1" ${2:+--blockdev driver=qcow2,node-name=q,file=f} \
		--export "type=vhost-user-blk,id=e,node-name=$node,addr.type=unix,addr.path=$VSOCK,writable=on" \
		>"$WORK/qsd.log" 2>&1 &
	QPID=$!
	for _ in $(seq 200); do [ -S "$VSOCK" ] && return 0; sleep 0.1; done
	return 1
}
alive() { kill -0 "$CPID" 2>/dev/null; }
hangup_lines() { grep -c "closed the connection" "$WORK/$T.stderr"; }
if [ -z "$QSD" ] || ! command -v qemu-img >/dev/null; then
	bad "qemu-storage-daemon or qemu-img missing (scripts/deps.sh test installs qemu-system-common, qemu-utils)"
elif ! mkfs.ext4 -q -F -d "$WORK/vublkroot" "$VIMG" 32M >/dev/null ||
     ! qemu-img create -q -f qcow2 -b "$VIMG" -F raw "$VQCOW" >/dev/null; then
	bad "mkfs.ext4 or qemu-img create failed"
elif base=$(sha256sum < "$VIMG") && ! qsd_start "$VQCOW" qcow2; then
	bad "qemu-storage-daemon did not create $VSOCK: $(head -c 300 "$WORK/qsd.log")"
	kill -KILL "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null
else
	OUT=$WORK/$T.serial
	start=$(date +%s.%N)
	"$CKVM" run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" --memory 128M,shared=on \
		--serial "file=$OUT" --cmdline "console=ttyS0 ckvm.test=vublk" \
		--disk "vhost_user=on,socket=$VSOCK" </dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr" &
	CPID=$!
	# Every wait is bounded: by TIMEOUT for the boot, then by fixed times.
	for _ in $(seq $((TIMEOUT * 5))); do has CKVM-VUBLK-WAIT 2>/dev/null && break; alive || break; sleep 0.2; done
	kill -KILL "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null
	for _ in $(seq 300); do [ "$(hangup_lines)" -ge 1 ] && break; alive || break; sleep 0.1; done
	ALIVE=no; alive && ALIVE=yes
	for _ in $(seq $((VUBLK_END_SECS * 5))); do alive || break; sleep 0.2; done
	ENDED=poweroff
	if alive; then
		ENDED=SIGTERM
		kill -TERM "$CPID"
		for _ in $(seq 100); do alive || break; sleep 0.1; done
		kill -KILL "$CPID" 2>/dev/null
	fi
	wait "$CPID"; RC=$?
	SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	grep -v "closed the connection" "$WORK/$T.stderr" | sed 's/^/  ckvm: /' | head -5
	qemu-img convert -O raw "$VQCOW" "$WORK/vublk.flat"
	got=$(debugfs -R "cat /output.txt" "$WORK/vublk.flat" 2>/dev/null | tr -d '\r')
	if [ "$RC" -ne 0 ]; then
		bad "exit status $RC"
	elif ! grep -q '^CKVM-PCI 0000:00:01.0 1af4:1042 018000' "$OUT"; then
		bad "guest's PCI list lacks virtio-blk 1af4:1042 at 00:01.0: $(grep CKVM-PCI "$OUT" | tr '\n' ' ')"
	elif [ "$(marker CKVM-SHA)" != "$want" ]; then
		bad "guest read sha256 '$(marker CKVM-SHA)', file has $want"
	elif ! has CKVM-BLK-DONE; then
		bad "no CKVM-BLK-DONE"
	elif [ "$got" != "written-by-guest $(cat "$CACHE/kernel.release")" ]; then
		bad "host sees output.txt = '$got' in the flattened overlay"
	elif [ "$(sha256sum < "$VIMG")" != "$base" ]; then
		bad "the backing file changed: the guest's writes must go to the qcow2 overlay"
	elif ! e2fsck -fn "$WORK/vublk.flat" >/dev/null 2>&1; then
		bad "e2fsck finds the flattened image inconsistent after the guest's write"
	else
		ok "qemu-storage-daemon served a qcow2 overlay on a raw ext4 backing file: sha256 matched, guest write in the overlay (qemu-img convert + debugfs), backing file untouched, fsck clean, ${SECS}s"
	fi

	lines=$(hangup_lines)
	T=vublk-dies
	st=$(marker CKVM-VUBLK-STATUS) io=$(marker CKVM-VUBLK-IO)
	if ! has CKVM-VUBLK-WAIT; then
		bad "the guest never got to wait for the back-end's end"
	elif [ "$ALIVE" != yes ]; then
		bad "ckvm ended when the back-end died (status $RC): $(tail -n 2 "$WORK/vublk.stderr")"
	elif [ "$lines" -ne 1 ]; then
		bad "$lines lines about the hang-up, expected 1: $(tail -n 3 "$WORK/vublk.stderr")"
	elif [ -z "$st" ] || [ $((st & 0x40)) -eq 0 ]; then
		bad "the guest's device status is '$st', without NEEDS_RESET (0x40)"
	elif [ "${io%% *}" != error ]; then
		bad "the guest's read after the hang-up: '$io' (expected an I/O error; $ENDED ended ckvm)"
	elif [ "$RC" -ne 0 ]; then
		bad "exit status $RC after the guest's poweroff ($ENDED ended ckvm)"
	else
		case $io in
		error*)	io="failed (${io#error })" ;;
		*)	io="had no completion after 20 s (ckvm leaves a dead back-end's requests unanswered)" ;;
		esac
		ok "ckvm stayed up with one line ($(grep -o 'vblk0: the back-end.*' "$WORK/vublk.stderr" | cut -c1-60)...), guest status $st (NEEDS_RESET), its next read $io; $ENDED ended ckvm with status 0"
	fi
fi
