#!/bin/sh
# Run the tiny test guests listed in tests/guests/guests.list and compare serial output (exact) and
# exit status (and, where listed, stderr) with what is expected.
# Usage: run.sh CKVM GUEST_DIR [NAME...]      run under ckvm
#        run.sh --qemu GUEST_DIR [NAME...]    cross-check the guests themselves under QEMU
# Env: GUEST_TIMEOUT (seconds, default 60), QEMU_ACCEL (default kvm, e.g. tcg).
# Prints PASS/FAIL per guest, then "N passed, N failed"; exits non-zero on any failure.
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 CKVM|--qemu GUEST_DIR [NAME...]" >&2; exit 2; }
vmm=$1; gdir=$(cd "$2" && pwd) || exit 2; shift 2
only=" $* "
tmo=${GUEST_TIMEOUT:-60}
accel=${QEMU_ACCEL:-kvm}
if [ "$vmm" != --qemu ]; then
	[ -x "$vmm" ] || { echo "$0: $vmm: not executable" >&2; exit 2; }
	vmm=$(cd "$(dirname "$vmm")" && pwd)/$(basename "$vmm")
fi
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
pass=0; fail=0
disk=$work/disk.img
dd if=/dev/zero of="$disk" bs=1024 count=1024 2>/dev/null || exit 2

fail() { echo "FAIL $name ($1)"; fail=$((fail + 1)); }

while read -r name status errre qemu args; do
	case $name in ''|'#'*) continue ;; esac
	[ "$only" = "  " ] || case $only in *" $name "*) ;; *) continue ;; esac
	out=$work/$name.serial; err=$work/$name.stderr
	rm -f "$out"; : > "$out"
	args=$(echo "$args" | sed "s|@|$gdir|g; s|%DISK|$disk|g")
	if [ "$vmm" = --qemu ]; then
		[ "$qemu" != - ] || { echo "SKIP $name (no QEMU variant)"; continue; }
		status=${qemu#*:}; errre=-
		append=$(echo " $args " | sed -n 's/.* --cmdline \([^ ]*\) .*/\1/p')
		qdisk=$(echo " $args " | sed -n 's/.* --disk path=\([^ ,]*\).*/\1/p')
		set --
		[ -z "$qdisk" ] || set -- -drive "file=$qdisk,if=none,id=d0,format=raw" \
			-device virtio-blk-pci,drive=d0,disable-legacy=on
		# shellcheck disable=SC2086
		timeout "$tmo" qemu-system-x86_64 -accel "$accel" -machine pc -m 64M -display none \
			-no-reboot -monitor none -serial "file:$out" \
			-device isa-debug-exit,iobase=0x501,iosize=2 \
			-kernel "$gdir/${qemu%%:*}" ${append:+-append "$append"} "$@" \
			</dev/null >"$work/$name.stdout" 2>"$err"
		rc=$?
	else
		# shellcheck disable=SC2086
		timeout "$tmo" "$vmm" run $args --serial "file=$out" \
			</dev/null >"$work/$name.stdout" 2>"$err"
		rc=$?
	fi
	expect=$here/$name.expect
	[ "$vmm" = --qemu ] && [ -f "$here/$name.qemu-expect" ] && expect=$here/$name.qemu-expect
	why=
	if [ "$rc" -eq 124 ]; then
		why="timed out after ${tmo}s"
	elif [ "$rc" -ne "$status" ]; then
		why="exit status $rc, expected $status"
	fi
	if [ -z "$why" ] && ! cmp -s "$out" "$expect"; then
		why="serial output differs: got '$(head -c 200 "$out" | tr '\n' '|')', expected '$(tr '\n' '|' < "$expect")'"
	fi
	if [ -z "$why" ] && [ "$errre" != - ] && ! grep -Eiq "$errre" "$err"; then
		why="stderr does not match /$errre/: '$(head -c 200 "$err" | tr '\n' '|')'"
	fi
	if [ -n "$why" ]; then
		fail "$why"
		[ -s "$err" ] && sed 's/^/    stderr: /' "$err" | head -n 5
		[ -n "$why" ] && [ -s "$out" ] && sed 's/^/    serial: /' "$out" | head -n 5
	else
		echo "PASS $name"; pass=$((pass + 1))
	fi
done < "$here/guests.list"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
