#!/bin/sh
# The GDB stub against the tiny guests: Debian's gdb in batch mode steps gdbstep64 (long mode) and
# gdbstep16 (raw real mode) and checks registers, a hardware and a software breakpoint, a memory read
# and the run to the end; gdb_hostile.py sends malformed and oversized packets and Ctrl-C, and the
# guest must still finish. Usage: gdb.sh CKVM GUEST_DIR. Prints PASS/FAIL, then "N passed, N failed".
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: $0 CKVM GUEST_DIR" >&2; exit 2; }
ckvm=$1; gdir=$2
tmo=${GUEST_TIMEOUT:-60}
pass=0; fail=0
command -v gdb >/dev/null || { echo "FAIL gdb not installed (apt-get install gdb)"; echo "0 passed, 1 failed"; exit 1; }
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; fail=$((fail + 1)); }
# expect NAME FILE REGEX: one check on gdb's output
expect() { if grep -Eq "$3" "$2"; then ok "$1"; else ko "$1: no /$3/ in $2"; sed 's/^/    /' "$2" | tail -n 30; fi; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME ADDR ARGS...: ckvm in the background, waiting for a client on ADDR
start() {
	name=$1; addr=$2; shift 2
	"$ckvm" run --serial "file=$work/$name.serial" --gdb "$addr" --gdb-wait "$@" \
		2> "$work/$name.stderr" &
	pid=$!
}

# finish NAME STATUS SERIAL: ckvm's exit status and serial output
finish() {
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $((tmo * 10)) ]; do	# bounded poll for the end
		sleep 0.1; i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"; wait "$pid"; ko "$1: ckvm still running after ${tmo}s"; return
	fi
	wait "$pid"; rc=$?
	[ "$rc" = "$2" ] && ok "$1: exit status $rc" || { ko "$1: exit status $rc, want $2"; cat "$work/$1.stderr"; }
	grep -q "$3" "$work/$1.serial" && ok "$1: serial '$3'" || ko "$1: serial output: $(cat "$work/$1.serial")"
	if grep -Eq 'Sanitizer|runtime error|Assertion' "$work/$1.stderr"; then ko "$1: sanitizer report"; fi
}

# ---- long mode: gdbstep64.elf with its symbols ----
port=$(free_port)
start step64 "tcp:127.0.0.1:$port" --kernel "$gdir/gdbstep64.elf" --test-exit
timeout "$tmo" gdb -batch -nx "$gdir/gdbstep64.elf" \
	-ex "target remote 127.0.0.1:$port" -ex 'info registers rip' \
	-ex stepi -ex stepi -ex stepi -ex 'info registers rax rbx rip' \
	-ex 'hbreak gdb_hw_target' -ex continue -ex 'info registers rip rcx' \
	-ex 'break gdb_sw_target' -ex continue -ex 'info registers rip rcx' \
	-ex 'x/s &gdb_string' -ex 'info threads' -ex 'p/x $cr0' -ex continue \
	> "$work/step64.gdb" 2>&1
expect "step64: stopped at _start before the first instruction" "$work/step64.gdb" '^rip +0x100000 +0x100000 <_start>'
expect "step64: three steps: rax = 0x11 + 0x22" "$work/step64.gdb" '^rax +0x33 '
expect "step64: three steps: rip" "$work/step64.gdb" '^rip +0x10000c '
expect "step64: hardware breakpoint hit" "$work/step64.gdb" '^Breakpoint 1, .* in gdb_hw_target'
expect "step64: software breakpoint hit" "$work/step64.gdb" '^Breakpoint 2, .* in gdb_sw_target'
expect "step64: rcx set between them" "$work/step64.gdb" '^rcx +0x44 '
expect "step64: memory read of a string" "$work/step64.gdb" '"ckvm gdb memory test"'
expect "step64: one thread per vCPU" "$work/step64.gdb" '^\* 1 +Thread 1 '
expect "step64: cr0 (PG|PE)" "$work/step64.gdb" '^\$1 = 0x8[0-9a-f]{6}[13579bdf]$'
expect "step64: continue to the test exit" "$work/step64.gdb" 'exited normally'
finish step64 37 "gdbstep64 OK"

# ---- real mode: the raw gdbstep16.bin at 0x1000, CS = 0 ----
port=$(free_port)
str16=$(nm "$gdir/gdbstep16.rom.elf" | awk '$3 == "gdb16_string" { print $1 }')
start step16 "tcp:127.0.0.1:$port" --kernel "$gdir/gdbstep16.bin" --kernel-format raw --load-addr 0x1000 --entry 0x1000
timeout "$tmo" gdb -batch -nx \
	-ex "target remote 127.0.0.1:$port" -ex 'info registers rip cs' \
	-ex stepi -ex stepi -ex stepi -ex 'info registers rax rbx rip' \
	-ex 'hbreak *0x100e' -ex continue -ex 'info registers rip' -ex "x/s 0x$str16" -ex 'p/x $cr0' \
	-ex detach > "$work/step16.gdb" 2>&1
expect "step16: stopped at the real-mode entry" "$work/step16.gdb" '^rip +0x1000 '
expect "step16: three steps: ax = 0x1234 + 0x5678" "$work/step16.gdb" '^rax +0x68ac '
expect "step16: three steps: bx" "$work/step16.gdb" '^rbx +0x5678 '
expect "step16: three steps: ip" "$work/step16.gdb" '^rip +0x1008 '
expect "step16: hardware breakpoint hit" "$work/step16.gdb" '^Breakpoint 1, 0x0+100e'
expect "step16: memory read of a string" "$work/step16.gdb" '"real-mode string"'
expect "step16: cr0 without PE" "$work/step16.gdb" '^\$1 = 0x60000010'
expect "step16: detached" "$work/step16.gdb" 'detached'
finish step16 0 "real OK"

# ---- a hostile client on a Unix socket; the guest finishes all the same ----
hold=$(nm "$gdir/gdbstep64.elf" | awk '$3 == "gdb_hold" { print $1 }')
str=$(nm "$gdir/gdbstep64.elf" | awk '$3 == "gdb_string" { print $1 }')
spin=$(nm "$gdir/gdbstep64.elf" | awk '$3 == "gdb_spin" { print $1 }')
start hostile "unix:$work/gdb.sock" --kernel "$gdir/gdbstep64.elf" --test-exit
if timeout "$tmo" python3 "$here/gdb_hostile.py" "$work/gdb.sock" "$hold" "$str" "$spin" > "$work/hostile.out" 2>&1; then
	ok "hostile client: $(grep -c '^PASS' "$work/hostile.out") checks"
else
	ko "hostile client"; sed 's/^/    /' "$work/hostile.out" | grep -v '^    PASS'
fi
finish hostile 37 "gdbstep64 OK"
[ -e "$work/gdb.sock" ] && ko "hostile: the Unix socket was not removed" || ok "hostile: Unix socket removed"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
