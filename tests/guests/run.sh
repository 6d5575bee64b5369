#!/bin/sh
# Run the tiny test guests listed in tests/guests/guests.list and compare serial output (exact, or its
# end for guests that scribble on the UART) and exit status (and, where listed, stderr; with
# NAME.stdout, ckvm's stdout) with what is expected. Any sanitizer report or failed assertion on
# ckvm's stderr fails the guest.
# Usage: run.sh CKVM GUEST_DIR [NAME...]      run under ckvm
#        run.sh --qemu GUEST_DIR [NAME...]    cross-check the guests themselves under QEMU
# Env: GUEST_TIMEOUT (seconds, default 60), QEMU_ACCEL (default kvm, e.g. tcg), CKVM_SAN (an ASan/UBSan
# build of ckvm for the guests whose arguments start with %SAN; without it they use CKVM).
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
san=
if [ -n "$CKVM_SAN" ]; then
	[ -x "$CKVM_SAN" ] || { echo "$0: CKVM_SAN=$CKVM_SAN: not executable" >&2; exit 2; }
	san=$(cd "$(dirname "$CKVM_SAN")" && pwd)/$(basename "$CKVM_SAN")
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
	run_vmm=$vmm
	case $args in
	%SAN\ *) args=${args#%SAN }; [ -z "$san" ] || run_vmm=$san ;;
	esac
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
		timeout "$tmo" "$run_vmm" run $args --serial "file=$out" \
			</dev/null >"$work/$name.stdout" 2>"$err"
		rc=$?
	fi
	# status "S|T|U": S is the run to the end (serial checked); T, U are documented early stops
	full=${status%%|*}
	# NAME.expect, else BASE.expect for NAME = BASE.VARIANT; BASE.tail: the output's last bytes
	base=${name%%.*}
	expect=$here/$name.expect
	[ -f "$expect" ] || expect=$here/$base.expect
	[ "$vmm" = --qemu ] && [ -f "$here/$name.qemu-expect" ] && expect=$here/$name.qemu-expect
	tail=
	[ -f "$expect" ] || tail=$here/$base.tail
	why=
	early=
	if [ "$rc" -eq 124 ]; then
		why="timed out after ${tmo}s"
	elif [ "$rc" -ne "$full" ]; then
		case "|$status|" in
		*"|$rc|"*) early=" (stopped early with documented status $rc)" ;;
		*) why="exit status $rc, expected $status" ;;
		esac
	fi
	if [ -z "$why" ] && grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|Assertion .* failed' "$err"; then
		why="sanitizer report or assertion on stderr"
	fi
	if [ -z "$why" ] && [ -z "$early" ] && [ -n "$tail" ]; then
		n=$(wc -c < "$tail")
		if ! tail -c "$n" "$out" | cmp -s - "$tail"; then
			why="serial output does not end with '$(tr '\n' '|' < "$tail")': got '$(tail -c 200 "$out" | tr '\n' '|')'"
		fi
	elif [ -z "$why" ] && [ -z "$early" ] && ! cmp -s "$out" "$expect"; then
		why="serial output differs: got '$(head -c 200 "$out" | tr '\n' '|')', expected '$(tr '\n' '|' < "$expect")'"
	fi
	if [ -z "$why" ] && [ "$vmm" != --qemu ] && [ -f "$here/$name.stdout" ] &&
	   ! cmp -s "$work/$name.stdout" "$here/$name.stdout"; then
		why="stdout differs: got '$(head -c 200 "$work/$name.stdout" | tr '\n' '|')', expected '$(tr '\n' '|' < "$here/$name.stdout")'"
	fi
	if [ -z "$why" ] && [ "$errre" != - ] && ! grep -Eiq "$errre" "$err"; then
		why="stderr does not match /$errre/: '$(head -c 200 "$err" | tr '\n' '|')'"
	fi
	if [ -n "$why" ]; then
		fail "$why"
		case $why in
		sanitizer*) grep -E -A 12 'ERROR: .*Sanitizer|runtime error:|Assertion' "$err" | sed 's/^/    stderr: /' | head -n 25 ;;
		*) [ -s "$err" ] && sed 's/^/    stderr: /' "$err" | head -n 5 ;;
		esac
		[ -n "$why" ] && [ -s "$out" ] && sed 's/^/    serial: /' "$out" | head -n 5
	else
		echo "PASS $name$early"; pass=$((pass + 1))
	fi
done < "$here/guests.list"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
