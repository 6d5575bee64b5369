# blk: the guest mounts an ext4 image made with mkfs.ext4 -d, checksums a file on it, writes a file,
# syncs and reboots; the host then reads the guest's file with debugfs (no mount needed).
mkdir -p "$WORK/blkroot"
head -c 1048576 /dev/urandom > "$WORK/blkroot/input.bin"
want=$(sha256sum "$WORK/blkroot/input.bin" | cut -d' ' -f1)
IMG=$WORK/disk.img
rm -f "$IMG"
if ! mkfs.ext4 -q -F -d "$WORK/blkroot" "$IMG" 32M >/dev/null; then
	bad "mkfs.ext4 failed"
else
	boot blk --disk "path=$IMG,serial=ckvm-test-disk"
	got=$(debugfs -R "cat /output.txt" "$IMG" 2>/dev/null | tr -d '\r')
	if [ "$RC" -ne 0 ]; then
		bad "exit status $RC"
	elif ! grep -q '^CKVM-PCI 0000:00:01.0 1af4:1042 018000' "$OUT"; then
		bad "guest's PCI list lacks virtio-blk 1af4:1042 at 00:01.0: $(grep CKVM-PCI "$OUT" | tr '\n' ' ')"
	elif [ "$(marker CKVM-SHA)" != "$want" ]; then
		bad "guest read sha256 '$(marker CKVM-SHA)', file has $want"
	elif ! has CKVM-BLK-DONE; then
		bad "no CKVM-BLK-DONE"
	elif [ "$got" != "written-by-guest $(cat "$CACHE/kernel.release")" ]; then
		bad "host sees output.txt = '$got'"
	elif ! e2fsck -fn "$IMG" >/dev/null 2>&1; then
		bad "e2fsck finds the image inconsistent after the guest's write"
	else
		ok "guest PCI: $(grep -c '^CKVM-PCI' "$OUT") functions incl. virtio-blk; sha256 matched, guest write visible on the host, fsck clean, ${SECS}s"
	fi
fi
