# vufs: a host directory shared by virtiofsd over vhost-user (--memory ...,shared=on --fs
# tag=hostshare,socket=S), one boot. The guest's vufs mode mounts the tag, checksums a 1 MiB host
# file, writes one the host reads, lists the directory, then prints CKVM-VUFS-KILL: the host SIGKILLs
# virtiofsd and the guest waits (bounded) for the device's NEEDS_RESET bit, tries another read (ckvm
# answers requests made after the death with EIO: orphan mode in src/virtio/vhost_user_dev.c; the
# guest watches it for 10 s) and powers off without sync. ckvm must stay up through it, log one line
# about the hang-up and exit 0. Every file is under $WORK, named by $T.
VFSD=/usr/lib/qemu/virtiofsd
SHARE=$WORK/$T.share
VSOCK=$WORK/$T.sock
OUT=$WORK/$T.serial
mkdir -p "$SHARE"
head -c 1048576 /dev/urandom > "$SHARE/input.bin"
want=$(sha256sum "$SHARE/input.bin" | cut -d' ' -f1)
if [ ! -x "$VFSD" ]; then
	bad "$VFSD missing (scripts/deps.sh test installs qemu-system-common)"
else
	# sandbox=chroot: one process (the namespace sandbox forks, and the child holds the socket)
	"$VFSD" --socket-path="$VSOCK" -o source="$SHARE" -o cache=none -o sandbox=chroot \
		>"$WORK/$T.virtiofsd.log" 2>&1 &
	FPID=$!
	for _ in $(seq 200); do [ -S "$VSOCK" ] && break; kill -0 "$FPID" 2>/dev/null || break; sleep 0.1; done
	start=$(date +%s.%N)
	timeout -k 5 "$TIMEOUT" "$CKVM" run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" \
		--memory 128M,shared=on --serial "file=$OUT" --cmdline "console=ttyS0 ckvm.test=vufs" \
		--fs "tag=hostshare,socket=$VSOCK" </dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr" &
	CPID=$!
	for _ in $(seq "$TIMEOUT"); do
		has CKVM-VUFS-KILL 2>/dev/null && break
		has CKVM-VUFS-DONE 2>/dev/null && break
		kill -0 "$CPID" 2>/dev/null || break
		sleep 1
	done
	got=$(cat "$SHARE/output.txt" 2>/dev/null)
	kill -KILL "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null
	alive=no
	for _ in $(seq 300); do
		grep -q "closed the connection" "$WORK/$T.stderr" && { kill -0 "$CPID" 2>/dev/null && alive=yes; break; }
		kill -0 "$CPID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$CPID"; RC=$?
	SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	lines=$(grep -c "closed the connection" "$WORK/$T.stderr")
	list=$(marker CKVM-VUFS-LS)	# "input.bin output.txt " (one space after each name)
	names=" $list"
	list=${list% }
	dead=$(marker CKVM-VUFS-DEAD)	# the device's status byte as the guest's sysfs shows it
	case $dead in 0x[0-9a-f]*[!0-9a-f]*) needs_reset=0 ;; 0x[0-9a-f]*) needs_reset=$((dead & 0x40)) ;; *) needs_reset=0 ;; esac
	if [ "$RC" -eq 124 ]; then
		bad "timed out after ${TIMEOUT}s (the guest's power-off blocked?): $(grep '^CKVM-VUFS' "$OUT" | tr -d '\r' | tr '\n' ' ')"
	elif ! grep -q '^CKVM-PCI 0000:00:01.0 1af4:105a' "$OUT"; then
		bad "guest's PCI list lacks virtio-fs 1af4:105a at 00:01.0: $(grep CKVM-PCI "$OUT" | tr '\n' ' ')"
	elif [ "$(marker CKVM-VUFS-SHA)" != "$want" ]; then
		bad "guest read sha256 '$(marker CKVM-VUFS-SHA)', the host file has $want"
	elif [ "$got" != "written-by-guest $(cat "$CACHE/kernel.release")" ]; then
		bad "host sees output.txt = '$got'"
	elif [ "${names#* input.bin }" = "$names" ] || [ "${names#* output.txt }" = "$names" ]; then
		bad "guest's listing '$names' lacks input.bin or output.txt"
	elif [ "$alive" != yes ]; then
		bad "ckvm did not stay up with the hang-up logged (status $RC): $(tail -n 2 "$WORK/$T.stderr")"
	elif [ "$lines" -ne 1 ]; then
		bad "$lines lines about the hang-up, expected 1: $(tail -n 3 "$WORK/$T.stderr")"
	elif [ "$needs_reset" -eq 0 ]; then
		bad "the guest never saw DEVICE_NEEDS_RESET (status $(marker CKVM-VUFS-DEAD))"
	elif after=$(marker CKVM-VUFS-AFTER) && { [ "$after" = blocked ] || [ "${after:-0}" = 0 ]; }; then
		bad "the guest's read after the death: '$after' (expected a failure: cat's status, not 0 or blocked)"
	elif ! has CKVM-VUFS-DONE; then
		bad "no CKVM-VUFS-DONE"
	elif [ "$RC" -ne 0 ]; then
		bad "exit status $RC"
	else
		ok "virtiofsd: sha256 matched, guest write read by the host, listing '$list'; killed: one line, NEEDS_RESET in the guest, the read after it failed (status $after), power-off status 0, ${SECS}s"
	fi
fi
