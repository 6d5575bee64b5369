#!/bin/bash
# CLI tier: the real ckvm binary against output files that name inputs and against bad options
# (issue 13, findings 1, 2 and 6). A refused case must exit with status 1, print exactly one line
# on stderr matching a pattern, and leave every file involved byte-identical (sha256).
# Usage: run.sh CKVM CLI_GUEST_DIR GUEST_DIR  (bzsmall.bin, wait.elf; serial64.elf, hello.bin)
# Prints PASS/FAIL per case and "cli: N passed, N failed"; exits non-zero on any failure.
set -u
[ $# -eq 3 ] || { echo "usage: $0 CKVM CLI_GUEST_DIR GUEST_DIR" >&2; exit 2; }
ckvm=$(realpath "$1") && cdir=$(realpath "$2") && gdir=$(realpath "$3") || exit 2
work=$(mktemp -d /tmp/ckvm-cli.XXXXXX) || exit 2
apid=
cleanup() {
	[ -n "$apid" ] && kill -TERM "$apid" 2>/dev/null && wait "$apid"
	rm -rf "$work"
}
trap cleanup EXIT
pass=0; fail=0; T=; RC=0

ok()  { echo "PASS $T"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $T: $*"; fail=$((fail + 1))
	sed 's/^/    stderr: /' "$work/err" | cut -c1-200 | head -n 3
}
sum() { sha256sum < "$1" | cut -d' ' -f1; }

# run ARGS...: ckvm run, bounded, on intact inputs (a case that destroys one must not make
# the next fail for that reason); sets RC, fills $work/out and $work/err
run() {
	local f
	for f in kernel.elf initrd.img disk.img; do
		cmp -s "$work/pristine/$f" "$work/$f" || cp "$work/pristine/$f" "$work/$f"
	done
	timeout -k 5 30 "$ckvm" run "$@" </dev/null >"$work/out" 2>"$work/err"
	RC=$?
}

# refused REGEX [FILE SUM]...: status 1, one stderr line matching REGEX, each FILE still has SUM
refused() {
	local re=$1 n
	shift
	n=$(wc -l < "$work/err")
	while [ $# -ge 2 ]; do
		[ "$(sum "$1")" = "$2" ] || { bad "$(basename "$1") changed (now $(stat -c %s "$1") bytes)"; return; }
		shift 2
	done
	if [ "$RC" -ne 1 ]; then bad "exit status $RC, expected 1"
	elif [ "$n" -ne 1 ]; then bad "$n lines on stderr, expected exactly 1"
	elif ! grep -Eq -- "$re" "$work/err"; then bad "stderr does not match /$re/"
	else ok; fi
}

# Private copies: a broken ckvm must not destroy the build's guests.
K=$work/kernel.elf; I=$work/initrd.img; D=$work/disk.img; D2=$work/busy.img
cp "$gdir/serial64.elf" "$K" && cp "$cdir/wait.elf" "$work/wait.elf" && cp "$gdir/hello.bin" "$work/hello.bin" &&
	cp "$cdir/bzsmall.bin" "$work/bzsmall.bin" && head -c 65536 /dev/urandom > "$I" &&
	head -c 1048576 /dev/urandom > "$D" && head -c 1048576 /dev/urandom > "$D2" || exit 2
ln -s "$K" "$work/kernel.link" && ln -s "$D" "$work/disk.link" || exit 2
mkdir "$work/pristine" && cp "$K" "$I" "$D" "$work/pristine/" || exit 2
ks=$(sum "$K"); is=$(sum "$I"); ds=$(sum "$D"); d2s=$(sum "$D2"); ws=$(sum "$work/wait.elf")
RAW="--kernel $work/hello.bin --kernel-format raw --load-addr 0x1000 --entry 0x1000"

echo "--- finding 1: --serial file= naming the kernel or initrd"
T=serial-is-kernel;    run --kernel "$K" --test-exit --serial "file=$K";  refused "is the kernel image" "$K" "$ks"
T=serial-is-kernel-symlink; run --kernel "$K" --test-exit --serial "file=$work/kernel.link"
refused "is the kernel image" "$K" "$ks"
T=serial-is-initrd;    run --kernel "$K" --initrd "$I" --test-exit --serial "file=$I"
refused "is the initrd" "$I" "$is" "$K" "$ks"

echo "--- --debug-console file= is an output file like --serial file="
T=debugcon-is-kernel;  run --kernel "$K" --test-exit --debug-console "file=$K"
refused "--debug-console file=.*is the kernel image" "$K" "$ks"
T=debugcon-is-serial;  run --kernel "$K" --test-exit --serial "file=$work/s.log" --debug-console "file=$work/s.log"
refused "also the output of --serial" "$K" "$ks"

echo "--- finding 2: --serial file= naming a disk, of this VM or of another running ckvm"
T=serial-is-disk;      run --kernel "$K" --disk "path=$D" --test-exit --serial "file=$work/disk.link"
refused "is a disk image" "$D" "$ds"
T=other-vm-starts
timeout -k 5 120 "$ckvm" run --kernel "$work/wait.elf" --disk "path=$D2" --serial "file=$work/a.log" \
	</dev/null >/dev/null 2>"$work/a.err" &
apid=$!
for _ in $(seq 300); do
	grep -q READY "$work/a.log" 2>/dev/null && break
	kill -0 "$apid" 2>/dev/null || break
	sleep 0.1
done
if grep -q READY "$work/a.log" 2>/dev/null; then ok; else bad "the other ckvm never printed READY"; fi
as=$(sum "$work/a.log")
T=serial-is-other-vm-disk;   run --kernel "$K" --test-exit --serial "file=$D2"
refused "locked by another process" "$D2" "$d2s"
T=disk-of-other-vm;          run --kernel "$K" --test-exit --disk "path=$D2" --serial "file=$work/b.log"
refused "locked by another process" "$D2" "$d2s"
T=serial-is-other-vm-output; run --kernel "$K" --test-exit --serial "file=$work/a.log"
refused "locked by another process" "$work/a.log" "$as"
T=serial-is-other-vm-kernel; run --kernel "$K" --test-exit --serial "file=$work/wait.elf"
refused "locked by another process" "$work/wait.elf" "$ws"
T=other-vm-stops
kill -TERM "$apid"; wait "$apid"; rc=$?; apid=
if [ "$rc" -eq 0 ]; then ok; else bad "the other ckvm ended with status $rc, expected 0"; fi
T=serial-truncates-old-log
echo "an old log, longer than the new one" > "$work/old.log"
run --kernel "$K" --test-exit --serial "file=$work/old.log"
if [ "$RC" -ne 33 ]; then bad "exit status $RC, expected 33"
elif [ "$(cat "$work/old.log")" != "64-bit OK" ]; then bad "log is '$(head -c 80 "$work/old.log")'"
else ok; fi

echo "--- finding 6: specific messages, nothing ignored in silence"
T=disk-given-twice;    run --kernel "$K" --test-exit --disk "path=$D" --disk "path=$work/disk.link"
refused "given twice" "$D" "$ds"
T=disk-is-kernel;      run --kernel "$K" --test-exit --disk "path=$K"
refused "is also the kernel image" "$K" "$ks"
T=disk-long-path;      run --kernel "$K" --disk "path=/$(head -c 5000 /dev/zero | tr '\0' a)" --print-config
refused "path too long"
T=disk-unknown-key;    run --kernel "$K" --disk "path=$D,cache=none" --print-config
refused "unknown key 'cache'"
T=net-multicast-mac;   run --kernel "$K" --net "tap=t0,mac=01:00:5e:00:00:01" --print-config
refused "multicast"
T=net-zero-mac;        run --kernel "$K" --net "tap=t0,mac=00:00:00:00:00:00" --print-config
refused "all-zero"
T=net-tap-16-chars;    run --kernel "$K" --net "tap=0123456789abcdef" --print-config
refused "tap name too long"
T=net-tap-template;    run --kernel "$K" --net "tap=rt%d" --print-config
refused "'%' is not allowed"
T=cmdline-default-fits
run --kernel "$work/bzsmall.bin" --test-exit --serial "file=$work/bz.log"
if [ "$RC" -ne 35 ]; then bad "exit status $RC, expected 35"
elif [ "$(cat "$work/bz.log")" != "cmdline: " ]; then bad "guest got '$(cat "$work/bz.log")'"
elif grep -qi error "$work/err"; then bad "an error on stderr"
else ok; fi
T=cmdline-user-fits
run --kernel "$work/bzsmall.bin" --test-exit --serial "file=$work/bz.log" --cmdline "console=ttyS0 quiet"
if [ "$RC" -ne 35 ]; then bad "exit status $RC, expected 35"
elif [ "$(cat "$work/bz.log")" != "cmdline: console=ttyS0 quiet" ]; then bad "guest got '$(cat "$work/bz.log")'"
else ok; fi
T=cmdline-too-long;    run --kernel "$work/bzsmall.bin" --test-exit --cmdline "$(printf '%050d' 0)" --serial none
refused "--cmdline is 50 bytes; this kernel takes at most 40"
T=memory-decimal;      run --kernel "$K" --memory 0100M --print-config
if [ "$RC" -eq 0 ] && grep -qx "memory=100M" "$work/out"; then ok; else bad "status $RC, $(grep memory= "$work/out")"; fi
T=memory-hex;          run --kernel "$K" --memory 0x8000000 --print-config
refused "--memory 0x8000000: not a size"
T=cpus-signed;         run --kernel "$K" --cpus " -18446744073709551614" --print-config
refused "not a decimal number"
T=cpus-host-limit;     run --kernel "$K" --test-exit --cpus 100000 --serial none
refused "--cpus 100000: this host's KVM allows at most [0-9]+"
T=cpus-mptable-limit;  run --kernel "$K" --no-acpi --cpus 300 --print-config
refused "--no-acpi: the MP table lists at most 254 CPUs"
T=option-twice;        run --kernel "$K" --memory 1G --memory 2G --print-config
refused "--memory given twice"
T=seccomp-bad-mode;    run --kernel "$K" --seccomp strict --print-config
refused "--seccomp strict: expected kill, log or off"
for opt in "--disk path=$D" "--net tap=t0" "--initrd $I" "--cmdline x" "--no-acpi" "--cpus 2"; do
	T="raw+${opt%% *}"
	# shellcheck disable=SC2086
	run $RAW $opt --print-config
	refused "--kernel-format raw: ${opt%% *}( [0-9]+)? does not apply"
done

echo "--- --memory size=S[,shared=on][,hugepages=on] (issue 12 item 1)"
T=memory-shared-boots; run --kernel "$K" --memory size=64M,shared=on --test-exit --serial "file=$work/shm.log"
if [ "$RC" -ne 33 ]; then bad "exit status $RC, expected 33"
elif ! grep -q "64-bit OK" "$work/shm.log"; then bad "guest printed '$(cat "$work/shm.log")'"
else ok; fi
# The RAM a vhost-user back-end maps must be a shared memfd mapping; the default stays private.
for mode in shared private; do
	T=memory-$mode-mapping
	arg=64M; [ $mode = shared ] && arg=64M,shared=on
	rm -f "$work/map.log"
	"$ckvm" run --kernel "$work/wait.elf" --memory "$arg" --serial "file=$work/map.log" \
		</dev/null >/dev/null 2>"$work/map.err" &
	mpid=$!
	for _ in $(seq 300); do
		grep -q READY "$work/map.log" 2>/dev/null && break
		kill -0 "$mpid" 2>/dev/null || break
		sleep 0.1
	done
	n=$(grep -c ' rw-s .*memfd:ckvm-ram' "/proc/$mpid/maps" 2>/dev/null)
	kill -TERM "$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null
	if ! grep -q READY "$work/map.log" 2>/dev/null; then bad "guest never printed READY"
	elif [ $mode = shared ] && [ "${n:-0}" -lt 1 ]; then bad "no shared memfd mapping"
	elif [ $mode = private ] && [ "${n:-0}" -ne 0 ]; then bad "$n memfd mappings in a private VM"
	else ok; fi
done
T=memory-print;        run --kernel "$K" --memory 64M,hugepages=on --print-config
if [ "$RC" -eq 0 ] && grep -qx "memory-backing=hugepages" "$work/out"; then ok; else bad "status $RC"; fi
if [ "$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)" = 0 ]; then
	T=memory-no-hugepages; run --kernel "$K" --memory 64M,hugepages=on --test-exit --serial none
	refused "^ckvm: error: --memory hugepages=on: this host has 0M of free huge pages, 64M needed"
fi
T=memory-bad-key;      run --kernel "$K" --memory 64M,numa=1 --print-config
refused "--memory: unknown key 'numa' \(expected size, shared, hugepages\)"
T=memory-bad-onoff;    run --kernel "$K" --memory 64M,shared=yes --print-config
refused "--memory shared=yes: expected on or off"
T=memory-no-size;      run --kernel "$K" --memory shared=on --print-config
refused "--memory shared=on: size=SIZE is missing"
T=memory-huge-2m;      run --kernel "$K" --memory 65M,hugepages=on --print-config
refused "with hugepages=on the size must be a multiple of 2M"
T=memory-huge-unshared; run --kernel "$K" --memory 64M,shared=off,hugepages=on --print-config
refused "hugepages=on needs shared memory"
T=memory-bad-size;     run --kernel "$K" --memory size=12X,shared=on --print-config
refused "--memory 12X: not a size"
echo "--- --disk vhost_user=on,socket=PATH (issue 12 item 2)"
T=vublk-print;         run --kernel "$K" --memory 64M,shared=on --disk "vhost_user=on,socket=$work/vu.sock" --print-config
if [ "$RC" -eq 0 ] && grep -qx "disk=vhost_user=on,socket=$work/vu.sock" "$work/out"; then ok; else bad "status $RC"; fi
T=vublk-needs-shared;  run --kernel "$K" --disk "vhost_user=on,socket=$work/vu.sock" --print-config
refused "--disk vhost_user=on,socket=.*: needs --memory SIZE,shared=on"
T=vublk-no-socket;     run --kernel "$K" --memory 64M,shared=on --disk vhost_user=on --print-config
refused "--disk vhost_user=on: socket=PATH is missing"
T=vublk-socket-alone;  run --kernel "$K" --disk "socket=$work/vu.sock" --print-config
refused "socket= needs vhost_user=on"
T=vublk-readonly;      run --kernel "$K" --memory 64M,shared=on --disk "vhost_user=on,socket=$work/vu.sock,readonly=on" --print-config
refused "vhost_user=on takes socket=PATH only"
T=vublk-no-backend;    run --kernel "$K" --memory 64M,shared=on --disk "vhost_user=on,socket=$work/vu.sock" --test-exit --serial none
refused "vhost-user: error: cannot connect to the back-end at .*vu.sock: No such file or directory"
echo "--- --fs tag=NAME,socket=PATH (issue 12: virtio-fs over vhost-user)"
T=vufs-print;          run --kernel "$K" --memory 64M,shared=on --fs "tag=share,socket=$work/fs.sock" --fs "tag=b,socket=$work/fs2.sock,queues=2,queue_size=256" --print-config
if [ "$RC" -eq 0 ] && grep -qx "fs=tag=share,socket=$work/fs.sock,queues=1,queue_size=128" "$work/out" &&
   grep -qx "fs=tag=b,socket=$work/fs2.sock,queues=2,queue_size=256" "$work/out"; then ok; else bad "status $RC"; fi
T=vufs-needs-shared;   run --kernel "$K" --fs "tag=share,socket=$work/fs.sock" --print-config
refused "--fs tag=share,socket=.*: needs --memory SIZE,shared=on"
T=vufs-tag-37;         run --kernel "$K" --memory 64M,shared=on --fs "tag=abcdefghijklmnopqrstuvwxyz01234567890,socket=$work/fs.sock" --print-config
refused "--fs tag=.*: the tag must have 1 to 36 bytes"
T=vufs-tag-twice;      run --kernel "$K" --memory 64M,shared=on --fs "tag=a,socket=$work/fs.sock" --fs "tag=a,socket=$work/fs2.sock" --print-config
refused "--fs tag=a: two file systems with one tag"
T=vufs-no-socket;      run --kernel "$K" --memory 64M,shared=on --fs tag=a --print-config
refused "--fs tag=a: tag=NAME and socket=PATH are both required"
T=vufs-queue-size;     run --kernel "$K" --memory 64M,shared=on --fs "tag=a,socket=$work/fs.sock,queue_size=100" --print-config
refused "--fs queue_size=100: not a power of two"
T=vufs-queues;         run --kernel "$K" --memory 64M,shared=on --fs "tag=a,socket=$work/fs.sock,queues=16" --print-config
refused "--fs queues=16: expected a number from 1 to 15"
T=vufs-five;           run --kernel "$K" --memory 64M,shared=on --fs tag=a,socket=/a --fs tag=b,socket=/b --fs tag=c,socket=/c --fs tag=d,socket=/d --fs tag=e,socket=/e --print-config
refused "--fs: at most 4 file system devices"
T=vufs-no-backend;     run --kernel "$K" --memory 64M,shared=on --fs "tag=a,socket=$work/fs.sock" --test-exit --serial none
refused "vhost-user: error: cannot connect to the back-end at .*fs.sock: No such file or directory"
echo "--- --net vhost_user=on,socket=PATH[,mac=M] (issue 12, net)"
T=vunet-print;         run --kernel "$K" --memory 64M,shared=on --net "vhost_user=on,socket=$work/vn.sock,mac=52:54:00:00:00:07" --print-config
if [ "$RC" -eq 0 ] && grep -qx "net=vhost_user=on,socket=$work/vn.sock,mac=52:54:00:00:00:07" "$work/out"; then ok; else bad "status $RC"; fi
T=vunet-needs-shared;  run --kernel "$K" --net "vhost_user=on,socket=$work/vn.sock" --print-config
refused "--net vhost_user=on,socket=.*: needs --memory SIZE,shared=on"
T=vunet-no-socket;     run --kernel "$K" --memory 64M,shared=on --net vhost_user=on --print-config
refused "--net vhost_user=on: socket=PATH is missing"
T=vunet-socket-alone;  run --kernel "$K" --net "socket=$work/vn.sock" --print-config
refused "socket= needs vhost_user=on"
T=vunet-and-tap;       run --kernel "$K" --memory 64M,shared=on --net "tap=t0,vhost_user=on,socket=$work/vn.sock" --print-config
refused "vhost_user=on takes socket=PATH, not a tap"
T=vunet-twice;         run --kernel "$K" --memory 64M,shared=on --net "vhost_user=on,socket=$work/vn.sock" --net "vhost_user=on,socket=$work/vn.sock" --print-config
refused "--net socket=.*vn.sock: given twice"
T=vunet-long-path;     run --kernel "$K" --memory 64M,shared=on --net "vhost_user=on,socket=/$(printf 'x%.0s' $(seq 120))" --print-config
refused "path too long for a Unix socket"
T=vunet-no-backend;    run --kernel "$K" --memory 64M,shared=on --net "vhost_user=on,socket=$work/vn.sock" --test-exit --serial none
refused "vhost-user: error: cannot connect to the back-end at .*vn.sock: No such file or directory"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
