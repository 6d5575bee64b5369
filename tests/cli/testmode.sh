#!/bin/bash
# `ckvm test` tier: one tiny guest per outcome, each case checking the exit status, the one summary
# line on stderr, and (where the case has them) the copied serial output, the screen dump and the
# TAP/JUnit reports. Every case runs under an outer `timeout`, so a hang fails instead of blocking.
# Usage: testmode.sh CKVM CLI_GUEST_DIR GUEST_DIR  (tm_*.bin, tm_vga.img; hello.bin, triplefault.elf,
#        spew.elf, boottime.elf, mbr.img)
# Prints PASS/FAIL per case and "testmode: N passed, N failed"; exits non-zero on any failure.
set -u
[ $# -eq 3 ] || { echo "usage: $0 CKVM CLI_GUEST_DIR GUEST_DIR" >&2; exit 2; }
ckvm=$(realpath "$1") && cdir=$(realpath "$2") && gdir=$(realpath "$3") || exit 2
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ckvm-testmode.XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT
pass=0; fail=0; T=; RC=0; SECS=0
RAW="--kernel-format raw --load-addr 0x1000 --entry 0x1000"

ok()  { echo "PASS $T"; pass=$((pass + 1)); }
bad() {
	echo "FAIL $T: $*"; fail=$((fail + 1))
	sed 's/^/    stderr: /' "$work/err" | cut -c1-200 | head -n 4
}

# t ARGS...: ckvm test, bounded by an outer timeout; sets RC and SECS (wall time), fills out/err
t() {
	local t0 t1
	t0=$(date +%s%N)
	timeout -k 5 60 "$ckvm" test "$@" </dev/null >"$work/out" 2>"$work/err"
	RC=$?
	t1=$(date +%s%N)
	SECS=$(( (t1 - t0) / 1000000 ))
}

# expect STATUS SUMMARY_REGEX: the status, and exactly one "ckvm test:" line on stderr matching
# the regex; nothing on stderr that looks like a sanitizer report or a seccomp kill
expect() {
	local n
	n=$(grep -c '^ckvm test: ' "$work/err")
	if [ "$RC" -ne "$1" ]; then bad "exit status $RC, expected $1"
	elif [ "$n" -ne 1 ]; then bad "$n summary lines on stderr, expected 1"
	elif ! grep -Eq -- "^ckvm test: $2" "$work/err"; then bad "summary does not match /$2/"
	elif grep -Eq 'forbidden system call|Sanitizer|runtime error' "$work/err"; then bad "sandbox or sanitizer report"
	else return 0; fi
	return 1
}

# xml_ok FILE: well-formed XML (xmllint if installed, else python3's parser)
xml_ok() {
	if command -v xmllint >/dev/null; then xmllint --noout "$1" 2>/dev/null
	else python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$1" 2>/dev/null; fi
}

P=$cdir/tm_pass.bin; F=$cdir/tm_failon.bin; X=$cdir/tm_f4.bin; V=$cdir/tm_vga.bin

echo "--- outcomes"
T=pass-two-expects
t --kernel "$P" $RAW --expect 'boot: ok$' --expect 'selftest: [0-9]+ of [0-9]+ passed' --timeout 30s
expect 0 'PASS tm_pass.bin \([0-9.]+ s\): every --expect matched: 2/2 in order$' &&
	{ grep -q '^selftest: 3 of 3 passed' "$work/out" && ok || bad "serial output not copied to stdout"; }

T=pass-is-the-matcher	# the guest spins: only the matcher can have stopped it, well before 30 s
t --kernel "$P" $RAW --expect 'selftest' --timeout 30s
expect 0 'PASS' && { [ "$SECS" -lt 15000 ] && ok || bad "took $SECS ms"; }

T=expects-out-of-order	# an --expect consumes the output up to its match
t --kernel "$P" $RAW --expect 'selftest' --expect 'boot: ok' --timeout 2s
expect 12 'FAIL tm_pass.bin .*timed out: after 2s; --expect #2 .boot: ok. not matched$' && ok

T=expect-not-met	# hello prints and halts (a raw guest's hlt powers off) first
t --kernel "$gdir/hello.bin" $RAW --expect 'Hello' --expect 'Goodbye'
expect 6 "FAIL hello.bin .*the guest stopped before every --expect matched: the guest powered off or halted; --expect #2 'Goodbye' not matched" && ok

T=expect-at-the-end	# `$` matches at the end of the output once the guest stopped
t --kernel "$gdir/hello.bin" $RAW --expect 'KVM!$'
expect 0 'PASS hello.bin' && ok

T=no-expect-poweroff	# no --expect: a guest that powers off passes
t --kernel "$gdir/hello.bin" $RAW --serial none
expect 0 'PASS hello.bin' && { [ ! -s "$work/out" ] && ok || bad "--serial none printed output"; }

T=fail-on
t --kernel "$F" $RAW --expect 'selftest' --fail-on 'PANIC: .*' --timeout 30s
expect 8 "FAIL tm_failon.bin .*a --fail-on pattern matched: 'PANIC: \.\*'" && ok

T=fail-on-wins-over-a-later-pass	# the panic line comes first in the output
t --kernel "$F" $RAW --expect 'selftest: 3' --fail-on PANIC --timeout 30s
expect 8 'FAIL' && ok

T=test-exit-0xf4-word
t --kernel "$X" $RAW --timeout 30s
expect 33 'FAIL tm_f4.bin .*the guest wrote 16 to the test-exit port$' && ok

T=test-exit-0xf4-exit-pass
t --kernel "$X" $RAW --timeout 30s --exit-pass 0x10
expect 33 'PASS tm_f4.bin .*the guest wrote 16 to the test-exit port$' && ok

T=test-exit-not-in-run	# `ckvm run` keeps both ports off without --test-exit
timeout -k 5 3 "$ckvm" run --kernel "$X" $RAW </dev/null >"$work/out" 2>"$work/err"; RC=$?
[ "$RC" -eq 124 ] && ok || bad "run without --test-exit ended with $RC (expected to spin until timeout)"

T=test-exit-0xf4-in-run	# and with --test-exit, 0xf4 answers as 0x501 does
timeout -k 5 30 "$ckvm" run --kernel "$X" $RAW --test-exit </dev/null >"$work/out" 2>"$work/err"; RC=$?
[ "$RC" -eq 33 ] && ok || bad "exit status $RC, expected 33"

T=triple-fault
t --kernel "$gdir/triplefault.elf" --expect 'never'
expect 10 'FAIL triplefault.elf .*the guest crashed: vCPU 0: triple fault.*--expect #1' && ok

T=timeout-2s
t --kernel "$P" $RAW --expect 'never printed' --timeout 2s
if expect 12 "FAIL tm_pass.bin \(2\.[0-9]+ s\): timed out: after 2s"; then
	[ "$SECS" -ge 1900 ] && [ "$SECS" -lt 6000 ] && ok || bad "took $SECS ms for --timeout 2s"
fi

T=timeout-stalled-stdout	# a reader that never reads must not hold the test past its timeout
t0=$(date +%s%N)
timeout -k 5 60 "$ckvm" test --kernel "$gdir/spew.elf" --expect never --timeout 2s </dev/null 2>"$work/err" \
	> >(exec sleep 15)
RC=$?; SECS=$(( ($(date +%s%N) - t0) / 1000000 ))
expect 12 'FAIL spew.elf .*timed out' && { [ "$SECS" -lt 7000 ] && ok || bad "took $SECS ms"; }

T=timeout-ms
t --kernel "$P" $RAW --timeout 300ms
expect 12 'FAIL .*timed out: after 300ms' && { [ "$SECS" -lt 4000 ] && ok || bad "took $SECS ms"; }

T=interrupted	# SIGTERM: a clean stop with its own status
timeout -k 5 30 "$ckvm" test --kernel "$P" $RAW --expect never </dev/null >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q selftest "$work/out" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$pid" 2>/dev/null
wait "$pid"; RC=$?
expect 14 'FAIL .*ckvm was stopped by a signal' && ok

T=serial-file	# --serial file=PATH: the output goes there (and is matched), not to stdout
t --kernel "$P" $RAW --expect 'selftest' --serial "file=$work/serial.log" --timeout 30s
expect 0 'PASS' && { grep -q '^selftest' "$work/serial.log" && [ ! -s "$work/out" ] && ok ||
	bad "serial.log: $(head -c 100 "$work/serial.log"); stdout $(wc -c < "$work/out") bytes"; }

T=debug-console-matched	# --debug-console stdio shares stdout, so the matcher sees it too (its
# writes and the UART's reach the pipe from two writers: no order between the two is expected)
t --kernel "$gdir/boottime.elf" --debug-console stdio --expect 'debugcon 0x402 OK' --timeout 30s
expect 0 'PASS boottime.elf' && ok

echo "--- screen dump"
T=screen-dump-file
t --kernel "$V" $RAW --screen-dump "$work/screen.txt" --exit-pass 0x21 --timeout 20s
expect 67 'PASS tm_vga.bin' &&
	{ cmp -s "$work/screen.txt" "$src/tm_vga.screen" && ok || bad "$(diff "$src/tm_vga.screen" "$work/screen.txt" | head -5)"; }

T=screen-dump-stdout	# - : after the guest's output, on stdout
t --kernel "$V" $RAW --screen-dump - --serial none --timeout 20s
expect 67 'FAIL tm_vga.bin' && { cmp -s "$work/out" "$src/tm_vga.screen" && ok || bad "stdout is not the screen"; }

T=screen-dump-not-an-input	# an output never overwrites an input
cp "$V" "$work/vga.bin"; sum=$(sha256sum < "$work/vga.bin")
t --kernel "$work/vga.bin" $RAW --screen-dump "$work/vga.bin"
[ "$RC" -eq 1 ] && [ "$(sha256sum < "$work/vga.bin")" = "$sum" ] && ok || bad "status $RC or the kernel changed"

echo "--- --bios: SeaBIOS boots a boot sector from the disk"
if [ -e /usr/share/seabios/bios.bin ]; then
	cp "$gdir/mbr.img" "$work/mbr.img" && cp "$cdir/tm_vga.img" "$work/vga.img" || exit 2
	T=bios-mbr-expect	# tests/guests/mbr.S: int 10h teletype, VGA memory, int 13h read, test exit
	t --bios --disk "path=$work/mbr.img,readonly=on" --expect 'MBR OK' --expect 'SECTOR2 OK' \
		--screen-dump "$work/mbr.txt" --timeout 120s
	if expect 0 'PASS mbr.img .*every --expect matched: 2/2 in order$'; then
		[ "$(head -n 1 "$work/mbr.txt")" = VGA ] && [ "$(wc -l < "$work/mbr.txt")" -eq 25 ] && ok ||
			bad "screen dump: $(head -c 100 "$work/mbr.txt")"
	fi
	T=bios-mbr-ide-test-exit	# the same sector from IDE, ending through its test-exit write
	t --bios --disk "path=$work/mbr.img,readonly=on,if=ide" --exit-pass 0x21 --timeout 120s
	expect 67 'PASS mbr.img .*the guest wrote 33 to the test-exit port' &&
		{ grep -q 'SECTOR2 OK' "$work/out" && ok || bad "no SECTOR2 OK on stdout"; }
	T=bios-vga-0xf4	# tm_vga as a boot sector: CP437 on the screen, dword out to 0xf4
	t --bios --disk "path=$work/vga.img,readonly=on" --expect 'vga written' --screen-dump "$work/vga.txt" \
		--timeout 120s --report "junit:$work/b.xml"
	if expect 0 'PASS vga.img'; then
		cmp -s "$work/vga.txt" "$src/tm_vga.screen" && xml_ok "$work/b.xml" && ok ||
			bad "$(diff "$src/tm_vga.screen" "$work/vga.txt" | head -5)"
	fi
else
	echo "SKIP --bios cases: /usr/share/seabios/bios.bin missing (scripts/deps.sh installs seabios)"
fi

echo "--- reports"
T=report-tap
t --kernel "$P" $RAW --expect 'boot' --expect 'passed' --report "tap:$work/r.tap" --name 'boot & selftest'
if expect 0 'PASS boot & selftest'; then
	if head -n 3 "$work/r.tap" | tr '\n' '|' | grep -q '^TAP version 13|1\.\.1|ok 1 - boot & selftest|$' &&
	   grep -q '^  outcome: pass$' "$work/r.tap" && grep -q '^    selftest: 3 of 3 passed$' "$work/r.tap"; then ok
	else bad "TAP file: $(head -c 300 "$work/r.tap")"; fi
fi

T=report-tap-stdout
t --kernel "$F" $RAW --fail-on PANIC --report tap --serial none
expect 8 'FAIL' && { grep -q '^not ok 1 - tm_failon.bin$' "$work/out" && grep -q '^  outcome: fail-on$' "$work/out" &&
	ok || bad "no TAP on stdout"; }

T=report-junit-pass
t --kernel "$P" $RAW --expect 'selftest' --report "junit:$work/p.xml"
if expect 0 'PASS'; then
	xml_ok "$work/p.xml" && grep -q 'failures="0" errors="0"' "$work/p.xml" && ok || bad "JUnit: $(head -c 300 "$work/p.xml")"
fi

T=report-junit-crash	# a crash is a JUnit <error>, the guest's output escaped in <system-out>
t --kernel "$gdir/triplefault.elf" --name '<crash & "burn">' --report "junit:$work/c.xml"
if expect 10 'FAIL'; then
	xml_ok "$work/c.xml" && grep -q '<error type="crash"' "$work/c.xml" &&
		grep -q 'name="&lt;crash &amp; &quot;burn&quot;&gt;"' "$work/c.xml" &&
		grep -q '<system-out>triple fault next' "$work/c.xml" && ok || bad "JUnit: $(head -c 400 "$work/c.xml")"
fi

T=report-junit-timeout
t --kernel "$P" $RAW --expect never --timeout 500ms --report "junit:$work/t.xml"
expect 12 'FAIL' && { xml_ok "$work/t.xml" && grep -q '<failure type="timeout"' "$work/t.xml" && ok || bad "JUnit"; }

echo "--- bad usage: status 1, one line"
for c in "bad-regex|--expect (ab|unbalanced regex|--expect '\(ab'" "bad-timeout|--timeout 0s|--timeout 0s" \
	 "bad-timeout-unit|--timeout 5x|--timeout 5x" "bad-report|--report xml:f|--report xml:f" \
	 "bad-exit-pass|--exit-pass 0x100000000|--exit-pass" "backref|--expect (a)\1|back-reference"; do
	IFS='|' read -r T opt re <<<"$c"
	# shellcheck disable=SC2086
	t --kernel "$P" $RAW ${opt%% *} "${opt#* }"
	[ "$RC" -eq 1 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -Eq -- "$re" "$work/err" && ok ||
		bad "status $RC, expected 1 and one line matching /$re/"
done
T=run-rejects-test-options
timeout -k 5 10 "$ckvm" run --kernel "$P" $RAW --expect x </dev/null >"$work/out" 2>"$work/err"; RC=$?
[ "$RC" -eq 1 ] && grep -q "run: --expect is an option of 'ckvm test'" "$work/err" && ok || bad "status $RC"

echo "testmode: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
