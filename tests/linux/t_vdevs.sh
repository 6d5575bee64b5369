# vdevs: one boot checks virtio-rng, virtio-vsock (hybrid mode, both directions) and virtio-balloon.
# rng: the guest reads /dev/hwrng twice (4 KiB each): both full and different. vsock: once the guest
# listens on port 5000, a host client connects to the socket, says "CONNECT 5000", gets "OK <port>"
# and sends 256 KiB; the guest prints their sha256; then the guest sends 64 KiB to host port 6000,
# i.e. the Unix socket PATH_6000 where a host listener checksums them. balloon: the guest touches
# 48 MiB and frees it, prints MemTotal; the host samples ckvm's RSS, inflates the balloon by 32 MiB
# (PATCH /balloon on the API socket); the guest's MemTotal must drop by 24+ MiB and ckvm's RSS by
# 8+ MiB (the balloon pages that had been touched). GET /balloon/statistics must report the guest's
# total memory.
VS=$WORK/vs.sock
API=$WORK/api.sock
head -c 262144 /dev/urandom > "$WORK/vin.bin"
want_in=$(sha256sum "$WORK/vin.bin" | cut -d' ' -f1)
# the guest->host listener: one connection, its bytes' sha256 into a file
python3 - "${VS}_6000" "$WORK/vout.sha" <<'PY' &
import hashlib, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(900)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
c.close()
open(sys.argv[2], "w").write("%s %d\n" % (h.hexdigest(), n))
PY
LPID=$!
OUT=$WORK/$T.serial
start=$(date +%s.%N)
timeout -k 5 "$TIMEOUT" "$CKVM" run --kernel "$CACHE/bzImage" --initrd "$CACHE/initramfs.cpio" \
	--memory 256M --serial "file=$OUT" --api-sock "$API" --rng --vsock "cid=3,socket=$VS" \
	--balloon size=0,stats=on --cmdline "console=ttyS0 ckvm.test=vdevs ckvm.balloon=32" \
	</dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr" &
VPID=$!
# wait_marker NAME: poll the serial log (bounded by the VM's own timeout) until NAME shows
wait_marker() {
	while kill -0 "$VPID" 2>/dev/null; do
		grep -q "^$1" "$OUT" 2>/dev/null && return 0
		sleep 0.5
	done
	grep -q "^$1" "$OUT" 2>/dev/null
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$(pgrep -P "$VPID" -x ckvm || echo "$VPID")/status" 2>/dev/null; }
ok_line=""
if wait_marker CKVM-VSOCK-LISTEN; then
	ok_line=$(python3 - "$VS" "$WORK/vin.bin" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(300); s.connect(sys.argv[1])
s.sendall(b"CONNECT 5000\n")
line = b""
while not line.endswith(b"\n"):
    b = s.recv(1)
    if not b: break
    line += b
s.sendall(open(sys.argv[2], "rb").read()); s.close()
print(line.decode(errors="replace").strip())
PY
)
fi
rss0= rss1= stats=
if wait_marker CKVM-BALLOON-WAIT; then
	rss0=$(rss_kb)
	curl -s --unix-socket "$API" -X PATCH -H 'Content-Type: application/json' \
		-d '{"amount_mib": 32}' http://localhost/balloon > "$WORK/patch.out"
	if wait_marker CKVM-MEMTOTAL-1; then
		rss1=$(rss_kb)
		stats=$(curl -s --unix-socket "$API" http://localhost/balloon/statistics)
	fi
fi
wait "$VPID"; RC=$?
SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null
[ -s "$WORK/$T.stderr" ] && sed 's/^/  ckvm: /' "$WORK/$T.stderr" | head -5
rngA=$(marker CKVM-RNG-A) rngB=$(marker CKVM-RNG-B)
m0=$(marker CKVM-MEMTOTAL-0) m1=$(marker CKVM-MEMTOTAL-1)
if [ "$RC" -ne 0 ]; then
	bad "exit status $RC"
elif has CKVM-FAIL; then
	bad "guest: $(marker CKVM-FAIL)"
elif [ "$(marker CKVM-RNG-DEV)" = none ] || [ "${rngA#* }" != 4096 ] || [ "${rngB#* }" != 4096 ] ||
     [ "${rngA%% *}" = "${rngB%% *}" ]; then
	bad "rng: device '$(marker CKVM-RNG-DEV)', reads '$rngA' / '$rngB'"
elif [ "${ok_line%% *}" != OK ] || [ "${ok_line#OK }" -lt 1073741824 ] 2>/dev/null; then
	bad "vsock handshake answered '$ok_line'"
elif [ "$(marker CKVM-VSOCK-IN-SHA)" != "$want_in 262144" ]; then
	bad "vsock host->guest: guest got '$(marker CKVM-VSOCK-IN-SHA)', sent $want_in"
elif [ "$(cut -d' ' -f1 "$WORK/vout.sha" 2>/dev/null)" != "$(marker CKVM-VSOCK-OUT-SHA)" ] ||
     ! has CKVM-VSOCK-OUT-DONE; then
	bad "vsock guest->host: host got '$(cat "$WORK/vout.sha" 2>/dev/null)', guest sent '$(marker CKVM-VSOCK-OUT-SHA)'"
elif [ -z "$m0" ] || [ -z "$m1" ] || [ $((m0 - m1)) -lt 24576 ]; then
	bad "balloon: MemTotal $m0 -> $m1 KiB (PATCH said '$(cat "$WORK/patch.out")')"
elif [ -z "$rss0" ] || [ -z "$rss1" ] || [ $((rss0 - rss1)) -lt 8192 ]; then
	bad "balloon: ckvm RSS $rss0 -> $rss1 KiB"
elif ! echo "$stats" | grep -q '"total_memory"'; then
	bad "balloon statistics: $stats"
else
	ok "rng ok; vsock 256 KiB in (${ok_line}), 64 KiB out, checksums match; balloon 32 MiB: MemTotal -$(((m0 - m1) / 1024)) MiB, RSS -$(((rss0 - rss1) / 1024)) MiB; ${SECS}s"
fi
