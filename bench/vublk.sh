#!/bin/bash
# vhost-user block bench: in-guest sequential O_DIRECT read and write (dd bs=1M) of the same raw file
#   (a) ckvm, built-in virtio-blk back-end      --disk path=IMG
#   (b) ckvm, vhost-user                        --memory M,shared=on --disk vhost_user=on,socket=S
#   (c) QEMU, vhost-user-blk-pci, -accel kvm    memfd RAM (share=on) + -numa node,memdev= + -chardev
# (b) and (c) talk to the same qemu-storage-daemon export of IMG (the daemon is started afresh, with
# the same arguments, for each of them). The guest times its own dd (bench/io-init, the io-bench
# initramfs: /proc/uptime, the guest's kvm-clock, 10 ms resolution), so boot time does not count.
# One run each; prints MB/s per case and the ratios. A benchmark, not a test. On a software-KVM host
# the guest's kernel is emulated, so its own block-layer work weighs in every number (see README).
# Usage: bench/vublk.sh [CKVM] [MIB]     (MIB per direction, default 16)
# Env:   CKVM_CACHE (default /var/cache/ckvm)  bzImage and initramfs.cpio; nothing is written there
#        VUBLK_TCG=0      skip (c) with -accel tcg (run by default: a TCG boot takes seconds)
#        VUBLK_TIMEOUT=S  limit per VM run (default 400)
# Every daemon and VM it starts is stopped on exit, Ctrl-C or SIGTERM (TERM, then KILL); if one of
# them dies under it (even by SIGKILL) the run in progress is ended and reported, and a watcher
# stops the rest if this script itself is SIGKILLed.
set -u
ckvm=$(realpath "${1:-build/ckvm}" 2>/dev/null)
mib=${2:-16}
case $mib in ''|*[!0-9]*|0) echo "$0: MIB must be a positive integer" >&2; exit 2 ;; esac
cache=${CKVM_CACHE:-/var/cache/ckvm}
kernel=$cache/bzImage
base_initrd=$cache/initramfs.cpio
init_src=$(cd "$(dirname "$0")" && pwd)/io-init
vm_timeout=${VUBLK_TIMEOUT:-400}
case $vm_timeout in ''|*[!0-9]*|0) echo "$0: VUBLK_TIMEOUT must be a positive integer" >&2; exit 2 ;; esac
mem_mib=128
# Options that keep QEMU's KVM guest on paths a software-KVM host handles (ckvm adds them itself).
workaround="noxsave noreplace-smp rodata=off nofsgsbase clearcpuid=smap,popcnt,ssse3,erms,fsrm,rep_good"

[ -n "$ckvm" ] && [ -x "$ckvm" ] || { echo "$0: ${1:-build/ckvm} is not executable (make)" >&2; exit 2; }
for f in "$kernel" "$base_initrd" "$init_src"; do
	[ -r "$f" ] || { echo "$0: missing $f (guest/build.sh makes the kernel and initramfs)" >&2; exit 2; }
done
for c in qemu-storage-daemon qemu-system-x86_64 cpio; do
	command -v "$c" >/dev/null || { echo "$0: needs $c (scripts/deps.sh bench)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/ckvm-vublk.XXXXXX) || exit 2
pids=	# every background process started, still to be stopped on exit
watcher=

say() { echo "vublk: $*" >&2; }
now_ns() { date +%s%N; }

# stop PID...: TERM, up to 3 s for it to go, then KILL; reaps it.
stop() {
	local p
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for p in "$@"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
cleanup() {
	trap '' INT TERM
	# shellcheck disable=SC2086
	[ -n "$pids" ] && stop $pids
	[ -n "$watcher" ] && { kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; }
	rm -rf "$work"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# If this shell is SIGKILLed no trap runs: a watcher (its own session, so a Ctrl-C that reaches the
# script's group does not end it first) kills what is listed in $work/pids once the shell is gone.
# It polls once a second; a run of this bench lasts minutes.
setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
	[ -f "$2/pids" ] && kill -KILL $(cat "$2/pids") 2>/dev/null; rm -rf "$2"' sh $$ "$work" \
	</dev/null >/dev/null 2>&1 &
watcher=$!
track() { pids="$pids $1"; echo "$pids" > "$work/pids"; }
untrack() { pids=$(echo "$pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '); echo "$pids" > "$work/pids"; }

# --- initramfs: the default one with /init replaced by bench/io-init (built in $work) -----------
initrd=$work/io-initramfs.cpio
mkdir "$work/root" || exit 2
(cd "$work/root" && cpio -idm --quiet < "$base_initrd") || { say "cannot unpack $base_initrd"; exit 2; }
install -m 0755 "$init_src" "$work/root/init" || exit 2
(cd "$work/root" && find . | cpio -o -H newc --quiet) > "$initrd" || { say "cannot pack $initrd"; exit 2; }
rm -rf "$work/root"

# --- the disk: MIB MiB of random data read at offset 0, MIB MiB of zeros written after it ---------
img=$work/disk.img
head -c $(( 2 * mib * 1048576 )) /dev/urandom > "$img" || exit 2
reset_write_region() {
	dd if=/dev/urandom of="$img" bs=1M seek="$mib" count="$mib" conv=notrunc status=none
}
check_write_region() {
	[ "$(tail -c +$(( mib * 1048576 + 1 )) "$img" | head -c $(( mib * 1048576 )) | sha256sum)" = \
	  "$(head -c $(( mib * 1048576 )) /dev/zero | sha256sum)" ]
}

sock=$work/vublk.sock
qsd_pid=
# qsd_start: export $img over vhost-user-blk on $sock; waits (bounded) for the socket.
qsd_start() {
	rm -f "$sock"
	qemu-storage-daemon --blockdev "driver=file,node-name=f,filename=$img" \
		--export "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=$sock,writable=on" \
		</dev/null >"$work/qsd.log" 2>&1 &
	qsd_pid=$!
	track "$qsd_pid"
	for _ in $(seq 100); do
		[ -S "$sock" ] && return 0
		kill -0 "$qsd_pid" 2>/dev/null || break
		sleep 0.1
	done
	say "qemu-storage-daemon did not create $sock: $(head -c 300 "$work/qsd.log")"
	return 1
}
qsd_stop() {
	[ -n "$qsd_pid" ] || return 0
	stop "$qsd_pid"
	untrack "$qsd_pid"
	qsd_pid=
}

cmdline="console=ttyS0 ckvm.bench=blk ckvm.mib=$mib ckvm.direct=1"

# run_vm NAME CMD...: one VM, serial log $work/NAME.log (the command writes it). Ends it when it
# outlives VUBLK_TIMEOUT or when the storage daemon it uses dies. Sets vm_wall (host s).
run_vm() {
	local name=$1 vm t0 deadline why=
	shift
	reset_write_region
	say "running $name, up to $vm_timeout s"
	t0=$(now_ns)
	deadline=$(( $(date +%s) + vm_timeout ))
	"$@" </dev/null >"$work/$name.out" 2>&1 &
	vm=$!
	track "$vm"
	while kill -0 "$vm" 2>/dev/null; do
		if [ -n "$qsd_pid" ] && ! kill -0 "$qsd_pid" 2>/dev/null; then
			why="qemu-storage-daemon died under it"; break
		fi
		[ "$(date +%s)" -lt "$deadline" ] || { why="no exit after $vm_timeout s"; break; }
		sleep 0.2
	done
	[ -n "$why" ] && { say "$name: $why; stopping it"; echo "BENCH-ERROR $why" >> "$work/$name.log"; }
	stop "$vm"
	untrack "$vm"
	vm_wall=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	grep -a "^BENCH-" "$work/$name.log" 2>/dev/null | sed "s/^/  $name: /" >&2
	grep -q '^BENCH-END' "$work/$name.log" || tail -n 3 "$work/$name.out" | sed 's/^/    /' >&2
	check_write_region && eval "check_$name=zeros" || eval "check_$name=differs"
	eval "wall_$name=$vm_wall"
}

# QEMU with its RAM in a shared memfd, the disk a vhost-user-blk-pci on the daemon's socket (one
# queue, as ckvm's vhost-user disk has).
run_qemu() {
	local name=$1 accel=$2 cpu=()
	# shellcheck disable=SC2054  # one QEMU -cpu value
	[ "$accel" = kvm ] && cpu=(-cpu qemu64,+xsaveerptr)
	qsd_start || return 1
	run_vm "$name" qemu-system-x86_64 -accel "$accel" "${cpu[@]}" -m ${mem_mib}M \
		-object "memory-backend-memfd,id=mem,size=${mem_mib}M,share=on" -numa node,memdev=mem \
		-chardev "socket,id=vu,path=$sock" -device vhost-user-blk-pci,chardev=vu,num-queues=1 \
		-display none -monitor none -serial "file:$work/$name.log" -no-reboot \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline $workaround"
	qsd_stop
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
say "$mib MiB each way, dd bs=1M O_DIRECT, guest RAM $mem_mib MiB, 1 vCPU; load average before: $load"

# (a) ckvm, built-in back-end
run_vm builtin "$ckvm" run --kernel "$kernel" --initrd "$initrd" --memory ${mem_mib}M \
	--serial "file=$work/builtin.log" --disk "path=$img" --cmdline "$cmdline"
# (b) ckvm, vhost-user
if qsd_start; then
	run_vm vhost "$ckvm" run --kernel "$kernel" --initrd "$initrd" --memory ${mem_mib}M,shared=on \
		--serial "file=$work/vhost.log" --disk "vhost_user=on,socket=$sock" --cmdline "$cmdline"
	qsd_stop
fi
# (c) QEMU, vhost-user; then with -accel tcg (unless VUBLK_TCG=0)
run_qemu qemu kvm
[ "${VUBLK_TCG:-1}" = 1 ] && run_qemu qemutcg tcg

# --- table -------------------------------------------------------------------------------------
# mbps NAME KEY: MB/s (10^6 bytes/s) from "BENCH-KEY bytes seconds" in NAME's log, "-" if absent
mbps() {
	awk -v k="BENCH-$2" '$1 == k && $3 > 0 { printf "%.2f", $2 / $3 / 1e6; f = 1; exit }
		END { if (!f) print "-" }' "$work/$1.log" 2>/dev/null || echo -
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.3f", a / b }'; }
cases="builtin vhost qemu"
[ "${VUBLK_TCG:-1}" = 1 ] && cases="$cases qemutcg"
label() {
	case $1 in
	builtin) echo "ckvm built-in" ;; vhost) echo "ckvm vhost-user" ;;
	qemu) echo "QEMU kvm vhost-user" ;; qemutcg) echo "QEMU tcg vhost-user" ;;
	esac
}
echo
echo "vublk bench: in-guest dd bs=1M O_DIRECT, $mib MiB read then $mib MiB written, one run each;"
echo "MB/s = 10^6 bytes/s, timed by the guest (/proc/uptime, 10 ms). The host is shared: noisy."
printf '%-22s %12s %12s %14s %14s\n' "" "read (MB/s)" "write (MB/s)" "write region" "VM wall (s)"
for c in $cases; do
	printf '%-22s %12s %12s %14s %14s\n' "$(label "$c")" "$(mbps "$c" BLK-READ)" "$(mbps "$c" BLK-WRITE)" \
		"$(eval echo "\${check_$c:--}")" "$(eval echo "\${wall_$c:--}")"
done
echo
printf '%-36s %10s %10s\n' "ratio (MB/s over MB/s)" "read" "write"
for r in "builtin qemu ckvm-builtin / QEMU-vhost" "vhost qemu ckvm-vhost / QEMU-vhost" \
	 "vhost builtin ckvm-vhost / ckvm-builtin"; do
	set -- $r
	a=$1 b=$2; shift 2
	printf '%-36s %10s %10s\n' "$*" "$(ratio "$(mbps "$a" BLK-READ)" "$(mbps "$b" BLK-READ)")" \
		"$(ratio "$(mbps "$a" BLK-WRITE)" "$(mbps "$b" BLK-WRITE)")"
done
echo
echo "disk: raw $((2 * mib)) MiB file in host /tmp (host page cache warm); qemu-storage-daemon" \
	"$(qemu-storage-daemon --version | head -n 1 | awk '{ print $3 }'), --blockdev driver=file," \
	"--export type=vhost-user-blk; QEMU: $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }')," \
	"memory-backend-memfd share=on, vhost-user-blk-pci num-queues=1, same kernel, initramfs and command line."
echo "write region after each run: 'zeros' = the guest's write reached the file."
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (was $load; $(nproc) host CPUs)"
for c in $cases; do grep -q '^BENCH-BLK-WRITE' "$work/$c.log" 2>/dev/null || exit 1; done
exit 0
