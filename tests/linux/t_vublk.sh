# vublk: a disk served by qemu-storage-daemon over vhost-user (--memory ...,shared=on --disk
# vhost_user=on,socket=S): a qcow2 overlay whose backing file is a raw ext4 image. The guest's blk
# mode mounts it, checksums a file on it, writes one and reboots; the host flattens the overlay with
# qemu-img and reads the guest's file with debugfs, and the backing file is unchanged. Then
# vublk-dies (below).
QSD=$(command -v qemu-storage-daemon)
mkdir -p "$WORK/vublkroot"
head -c 1048576 /dev/urandom > "$WORK/vublkroot/input.bin"
want=$(sha256sum "$WORK/vublkroot/input.bin" | cut -d' ' -f1)
VIMG=$WORK/vublk.img
VQCOW=$WORK/vublk.qcow2
VSOCK=$WORK/vublk.sock
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
if [ -z "$QSD" ] || ! command -v qemu-img >/dev/null; then
	bad "qemu-storage-daemon or qemu-img missing (scripts/deps.sh test installs qemu-system-common, qemu-utils)"
elif ! mkfs.ext4 -q -F -d "$WORK/vublkroot" "$VIMG" 32M >/dev/null ||
     ! qemu-img create -q -f qcow2 -b "$VIMG" -F raw "$VQCOW" >/dev/null; then
	bad "mkfs.ext4 or qemu-img create failed"
elif base=$(sha256sum < "$VIMG") && ! qsd_start "$VQCOW" qcow2; then
	bad "qemu-storage-daemon did not create $VSOCK: $(head -c 300 "$WORK/qsd.log")"
else
	MEM=128M,shared=on boot blk --disk "vhost_user=on,socket=$VSOCK"
	kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null
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
fi

# vublk-dies: the same disk, its daemon killed once the guest has read the file (its write then
# never completes in the guest). ckvm must stay up with one line naming the back-end's hang-up (the
# device goes to NEEDS_RESET), and still stop cleanly on SIGTERM.
T=vublk-dies
if [ -n "$QSD" ] && mkfs.ext4 -q -F -d "$WORK/vublkroot" "$VIMG" 32M >/dev/null && qsd_start "$VIMG"; then
	OUT=$WORK/$T.serial
	"$CKVM" run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" --memory 128M,shared=on \
		--serial "file=$OUT" --cmdline "console=ttyS0 ckvm.test=blk" \
		--disk "vhost_user=on,socket=$VSOCK" </dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr" &
	CPID=$!
	for _ in $(seq "$TIMEOUT"); do
		has CKVM-SHA 2>/dev/null && break
		kill -0 "$CPID" 2>/dev/null || break
		sleep 1
	done
	kill -KILL "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null
	for _ in $(seq 300); do
		grep -q "closed the connection" "$WORK/$T.stderr" && break
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.1
	done
	alive=no; kill -0 "$CPID" 2>/dev/null && alive=yes
	lines=$(grep -c "closed the connection" "$WORK/$T.stderr")
	kill -TERM "$CPID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$CPID" 2>/dev/null
	wait "$CPID"; RC=$?
	if ! has CKVM-SHA; then
		bad "the guest never read the disk"
	elif [ "$alive" != yes ]; then
		bad "ckvm ended when the back-end died (status $RC): $(tail -n 2 "$WORK/$T.stderr")"
	elif [ "$lines" -ne 1 ]; then
		bad "$lines lines about the hang-up, expected 1: $(tail -n 3 "$WORK/$T.stderr")"
	elif [ "$RC" -ne 0 ]; then
		bad "SIGTERM after the back-end died: exit status $RC"
	else
		ok "ckvm kept running with one line ($(grep -o 'vblk0: the back-end.*' "$WORK/$T.stderr" | cut -c1-60)...), then stopped with status 0"
	fi
else
	bad "could not set up the image and qemu-storage-daemon"
fi
