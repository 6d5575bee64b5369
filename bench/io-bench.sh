#!/bin/bash
# I/O throughput bench: in-guest dd on virtio-blk and a TCP download on virtio-net, for ckvm and for
# QEMU booting the same kernel, initramfs and command line on this host, next to the host's own
# throughput on the same image file and the same TCP server. A benchmark, not a test.
# Usage: bench/io-bench.sh CKVM [MIB]          (MIB per measurement, default 4: guests here are slow)
# Env:   CKVM_CACHE (default /var/cache/ckvm)  kernel bzImage and initramfs.cpio; the bench
#                                              initramfs goes to $CKVM_CACHE/bench/
#        QEMU_ACCEL=kvm|tcg (default kvm; falls back to tcg if the kvm run produces no results)
#        IO_DIRECT=1      O_DIRECT dd in the guest and on the host (default: buffered + fsync)
#        IO_TIMEOUT=S     limit per VM run (default 600)      IO_SKIP_QEMU=1  ckvm and host only
# Needs root (network namespace, tap). The tap and the server live in a namespace of their own,
# 10.78.0.1/24 (server) and 10.78.0.2 (guest); nothing is configured outside it.
set -u
[ $# -ge 1 ] || { echo "usage: $0 CKVM [MIB]" >&2; exit 2; }
ckvm=$1
mib=${2:-4}
case $mib in ''|*[!0-9]*|0) echo "$0: MIB must be a positive integer" >&2; exit 2 ;; esac
cache=${CKVM_CACHE:-/var/cache/ckvm}
kernel=$cache/bzImage
base_initrd=$cache/initramfs.cpio
here=$(cd "$(dirname "$0")" && pwd)
init_src=$here/io-init
qemu_accel=${QEMU_ACCEL:-kvm}
direct=${IO_DIRECT:-0}
vm_timeout=${IO_TIMEOUT:-600}
mem_mib=128
port=5556
workaround="noxsave noreplace-smp rodata=off nofsgsbase clearcpuid=smap,popcnt,ssse3,erms,fsrm,rep_good"

for f in "$kernel" "$base_initrd" "$init_src"; do
	[ -r "$f" ] || { echo "$0: missing $f (guest/build.sh makes the kernel and initramfs)" >&2; exit 2; }
done
[ -x "$ckvm" ] || { echo "$0: $ckvm is not executable" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (network namespace and tap)" >&2; exit 2; }
command -v cpio >/dev/null || { echo "$0: needs cpio" >&2; exit 2; }
[ -x /bin/busybox ] || { echo "$0: needs /bin/busybox (busybox-static)" >&2; exit 2; }

work=$(mktemp -d /tmp/ckvm-io.XXXXXX) || exit 2
ns=ckvm-io-$$
tap=iobtap0
ns_made=0
bg_pids=
cleanup() {
	for p in $bg_pids; do kill "$p" 2>/dev/null; done
	for p in $bg_pids; do wait "$p" 2>/dev/null; done
	if [ "$ns_made" = 1 ]; then
		# Anything still running in the namespace (servers) would outlive it.
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
say() { echo "io-bench: $*" >&2; }

# --- bench initramfs: the default one with /init replaced by io-init --------------------------
initrd=$cache/bench/io-initramfs.cpio
if [ ! -s "$initrd" ] || [ "$init_src" -nt "$initrd" ] || [ "$base_initrd" -nt "$initrd" ]; then
	say "building $initrd"
	mkdir -p "$cache/bench" "$work/root" || exit 2
	(cd "$work/root" && cpio -idm --quiet < "$base_initrd") || { say "cannot unpack $base_initrd"; exit 2; }
	install -m 0755 "$init_src" "$work/root/init" || exit 2
	(cd "$work/root" && find . | cpio -o -H newc --quiet) > "$initrd.tmp" &&
		mv "$initrd.tmp" "$initrd" || { say "cannot pack $initrd"; exit 2; }
	rm -rf "$work/root"
fi

# --- disk image and TCP payload ----------------------------------------------------------------
img=$work/disk.img
img_mib=$(( 2 * mib > 64 ? 2 * mib : 64 ))
head -c $(( img_mib * 1048576 )) /dev/urandom > "$img" || exit 2
head -c $(( mib * 1048576 )) /dev/urandom > "$work/net.bin" || exit 2
mkfifo "$work/hold" || exit 2
: > "$work/qemu.log"	# stays empty if QEMU is skipped

# Rewrite the write region with fresh random bytes, so a later check shows the guest's write landed.
reset_write_region() {
	dd if=/dev/urandom of="$img" bs=1M seek="$mib" count="$mib" conv=notrunc status=none
}
# Does the write region hold what the guest wrote (the read region, or zeros with O_DIRECT)?
check_write_region() {
	local want
	if [ "$direct" = 1 ]; then
		want=$(head -c $(( mib * 1048576 )) /dev/zero | sha256sum)
	else
		want=$(head -c $(( mib * 1048576 )) "$img" | sha256sum)
	fi
	[ "$(tail -c +$(( mib * 1048576 + 1 )) "$img" | head -c $(( mib * 1048576 )) | sha256sum)" = "$want" ]
}

# --- namespace, tap, server --------------------------------------------------------------------
ip netns add "$ns" || { say "cannot create network namespace $ns"; exit 2; }
ns_made=1
ip -n "$ns" link set lo up &&
	ip -n "$ns" tuntap add dev "$tap" mode tap vnet_hdr &&
	ip -n "$ns" addr add 10.78.0.1/24 dev "$tap" &&
	ip -n "$ns" link set "$tap" up || { say "cannot set up $tap in $ns"; exit 2; }

# One server per transfer: busybox nc sends net.bin to one client, then closes.
server_pid=
start_server() {
	stop_server
	ip netns exec "$ns" busybox nc -l -p "$port" < "$work/net.bin" > /dev/null 2>&1 &
	server_pid=$!
	bg_pids="$bg_pids $server_pid"
	local i=0
	until ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q .; do
		i=$((i + 1))
		[ $i -lt 500 ] || { say "server did not start listening"; return 1; }
		sleep 0.01
	done
}
stop_server() {
	[ -n "$server_pid" ] || return 0
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	server_pid=
}

cmdline="console=ttyS0 ckvm.bench=blk,net ckvm.mib=$mib ckvm.direct=$direct"
cmdline="$cmdline ckvm.ip=10.78.0.2/24 ckvm.peer=10.78.0.1 ckvm.port=$port"

# tap_tx: "bytes packets" the tap has sent towards the VMM so far
tap_tx() {
	ip netns exec "$ns" sh -c 'cd "/sys/class/net/$1/statistics" && echo "$(cat tx_bytes) $(cat tx_packets)"' sh "$tap"
}

# run_vm NAME: boot one VMM in the namespace; its serial log goes to $work/NAME.log.
# Sets vm_status and vm_wall (seconds, host clock, exec to exit).
run_vm() {
	local name=$1 log=$work/$1.log
	: > "$log"
	reset_write_region
	start_server || return 1
	if [ "$name" = ckvm ]; then
		set -- "$ckvm" run --kernel "$kernel" --initrd "$initrd" --memory ${mem_mib}M \
			--serial "file=$log" --disk "path=$img" --net "tap=$tap,mac=52:54:00:12:34:56" \
			--cmdline "$cmdline"
	else
		local cpu=()
		[ "$qemu_accel" = kvm ] && cpu=(-cpu qemu64,+xsaveerptr)
		# Same command line as ckvm's guest gets (ckvm appends the work-arounds itself).
		set -- qemu-system-x86_64 -accel "$qemu_accel" "${cpu[@]}" -m $mem_mib -display none \
			-monitor none -serial "file:$log" -no-reboot -kernel "$kernel" -initrd "$initrd" \
			-append "$cmdline $workaround" -drive "file=$img,format=raw,if=virtio" \
			-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
			-device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56
	fi
	say "running $name$([ "$name" = qemu ] && echo " (-accel $qemu_accel)"), up to $vm_timeout s"
	local t0 vm tx0
	tx0=$(tap_tx)
	t0=$(now_ns)
	timeout -k 5 "$vm_timeout" ip netns exec "$ns" "$@" </dev/null >"$work/$name.out" 2>&1 &
	vm=$!
	bg_pids="$bg_pids $vm"
	wait "$vm"
	vm_status=$?
	vm_wall=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	stop_server
	# Frames the tap handed to the guest during the run: the average size shows whether the
	# VMM lets the guest take GSO/TSO-sized packets (up to 64 KiB) or MTU-sized ones.
	echo "BENCH-TAP-TX $(tap_tx | awk -v a="$tx0" '{ split(a, o, " "); print $1 - o[1], $2 - o[2] }')" >> "$log"
	grep '^BENCH-' "$log" | sed "s/^/  $name: /" >&2
	if [ "$vm_status" -ne 0 ]; then
		say "$name exit status $vm_status after $vm_wall s; last output:"
		tail -n 3 "$work/$name.out" | sed 's/^/    /' >&2
	fi
	return 0
}

# mbps LOG NAME: MB/s (10^6 bytes/s) from "BENCH-NAME bytes seconds", "-" if absent
mbps() {
	awk -v k="BENCH-$2" '$1 == k && $3 > 0 { printf "%.3f", $2 / $3 / 1e6; f = 1; exit }
		END { if (!f) print "-" }' "$1" 2>/dev/null
}
field() { awk -v k="BENCH-$2" '$1 == k { print $2; f = 1; exit } END { if (!f) print "-" }' "$1" 2>/dev/null; }
have_results() { grep -q '^BENCH-END' "$1" && grep -q '^BENCH-NET-RX' "$1"; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
say "$mib MiB per measurement, dd bs=1M $([ "$direct" = 1 ] && echo O_DIRECT || echo "buffered, writes with conv=fsync")," \
	"guest RAM $mem_mib MiB, image $img_mib MiB raw; load average before: $load"

# --- (a) ckvm ----------------------------------------------------------------------------------
run_vm ckvm
ckvm_check=missing
[ -s "$work/ckvm.log" ] && grep -q '^BENCH-BLK-WRITE' "$work/ckvm.log" &&
	{ check_write_region && ckvm_check=matches || ckvm_check=differs; }

# --- (b) QEMU, KVM first, TCG if that gives nothing -------------------------------------------
qemu_check=skipped
if [ "${IO_SKIP_QEMU:-0}" != 1 ]; then
	run_vm qemu
	if [ "$qemu_accel" = kvm ] && ! have_results "$work/qemu.log"; then
		say "QEMU -accel kvm gave no bench results (status $vm_status, $vm_wall s); retrying with -accel tcg"
		mv "$work/qemu.log" "$work/qemu-kvm.log"
		qemu_accel=tcg
		run_vm qemu
	fi
	qemu_check=missing
	grep -q '^BENCH-BLK-WRITE' "$work/qemu.log" &&
		{ check_write_region && qemu_check=matches || qemu_check=differs; }
fi

# --- (c) host ceiling: same image file, same server; client inside the namespace over its
# loopback path to 10.78.0.1 (the tap's address). Timed inside one process, so startup of
# dd/nc is included: for small MIB these are lower bounds of the host's rate.
hostlog=$work/host.log
reset_write_region
dflag_r='' dflag_w=''
[ "$direct" = 1 ] && { dflag_r=iflag=direct; dflag_w=oflag=direct; }
sync
t0=$(now_ns)
busybox dd if="$img" of=/dev/null bs=1M count="$mib" $dflag_r 2>/dev/null
t1=$(now_ns)
src=$img
[ "$direct" = 1 ] && src=/dev/zero
busybox dd if="$src" of="$img" bs=1M count="$mib" seek="$mib" $dflag_w conv=notrunc,fsync 2>/dev/null
t2=$(now_ns)
{
	awk -v b=$((mib * 1048576)) -v a="$t0" -v z="$t1" 'BEGIN { printf "BENCH-BLK-READ %d %.6f\n", b, (z - a) / 1e9 }'
	awk -v b=$((mib * 1048576)) -v a="$t1" -v z="$t2" 'BEGIN { printf "BENCH-BLK-WRITE %d %.6f\n", b, (z - a) / 1e9 }'
} > "$hostlog"
host_check=differs
check_write_region && host_check=matches
if start_server; then
	# shellcheck disable=SC2016
	set -- $(ip netns exec "$ns" sh -c 'a=$(date +%s%N); n=$(busybox nc 10.78.0.1 "$1" 0<>"$2" | wc -c)
		echo "$n $a $(date +%s%N)"' sh "$port" "$work/hold")
	awk -v n="${1:-0}" -v a="${2:-0}" -v z="${3:-0}" \
		'BEGIN { if (n > 0) printf "BENCH-NET-RX %d %.6f\n", n, (z - a) / 1e9 }' >> "$hostlog"
	stop_server
fi
echo "BENCH-END" >> "$hostlog"

# --- table -------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.4g", a / b }'; }
qlabel="QEMU($qemu_accel)"
[ "${IO_SKIP_QEMU:-0}" = 1 ] && qlabel="QEMU(skipped)"
echo
echo "io-bench results: MB/s = 10^6 bytes/s, $mib MiB per measurement, one run each, guest-timed via"
echo "/proc/uptime (10 ms resolution); host ceiling timed on the host. The machine is shared: noisy."
printf '%-26s %12s %14s %14s %12s %12s\n' "" "ckvm" "$qlabel" "host" "ckvm/QEMU" "ckvm/host"
for row in "BLK-READ:virtio-blk read" "BLK-WRITE:virtio-blk write" "NET-RX:virtio-net TCP rx"; do
	key=${row%%:*}; label="${row#*:} (MB/s)"
	c=$(mbps "$work/ckvm.log" "$key"); q=$(mbps "$work/qemu.log" "$key"); h=$(mbps "$hostlog" "$key")
	printf '%-26s %12s %14s %14s %12s %12s\n' "$label" "$c" "$q" "$h" "$(ratio "$c" "$q")" "$(ratio "$c" "$h")"
done
printf '%-26s %12s %14s %14s\n' "guest uptime at /init (s)" "$(field "$work/ckvm.log" START)" \
	"$(field "$work/qemu.log" START)" "n/a"
tapavg() { awk '$1 == "BENCH-TAP-TX" && $3 > 0 { printf "%.0f", $2 / $3; f = 1; exit } END { if (!f) print "-" }' "$1" 2>/dev/null; }
printf '%-26s %12s %14s %14s\n' "tap->guest bytes/frame" "$(tapavg "$work/ckvm.log")" "$(tapavg "$work/qemu.log")" "n/a"
printf '%-26s %12s %14s %14s\n' "write region on host" "$ckvm_check" "$qemu_check" "$host_check"
echo "net bytes received: ckvm $(field "$work/ckvm.log" NET-RX), QEMU $(field "$work/qemu.log" NET-RX)," \
	"host $(field "$hostlog" NET-RX) (sent $((mib * 1048576)))"
echo "blk: dd bs=1M $([ "$direct" = 1 ] && echo "O_DIRECT, zeros written" || echo "buffered, guest page cache dropped before the read; write = the read data, conv=fsync")," \
	"raw image in host /tmp (host page cache warm)."
echo "net: busybox nc server in netns $ns on tap 10.78.0.1 -> guest 10.78.0.2 (virtio-net, tap vnet_hdr," \
	"no vhost); host ceiling: busybox nc client in the same netns to 10.78.0.1 (loopback path)."
[ "${IO_SKIP_QEMU:-0}" = 1 ] || echo "QEMU: $(qemu-system-x86_64 --version | head -n 1), -accel $qemu_accel$([ -f "$work/qemu-kvm.log" ] && echo " (-accel kvm gave no results here)")," \
	"same kernel, initramfs and command line incl. \"$workaround\"."
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (was $load; 2 host CPUs)"
have_results "$work/ckvm.log"
