# gdb: the GDB stub on the default guest. ckvm boots the bzImage with nokaslr, --gdb on a local TCP
# port and --gdb-wait; Debian's gdb in batch mode loads vmlinux (symbols, no DWARF), attaches before
# the first instruction, sets a hardware breakpoint at start_kernel (paging on, kernel virtual
# addresses), continues to it, checks the backtrace's frame 0, reads linux_banner with x/s, then
# breaks at rest_init (another hardware breakpoint, later in the boot), detaches; the guest must
# reach init's markers and ckvm exit 0. Prints the frames gdb's unwinder found without DWARF.
OUT=$WORK/$T.serial
GDBOUT=$WORK/$T.gdb
VMLINUX=${VMLINUX:-$CACHE/vmlinux}
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if ! command -v gdb >/dev/null; then
	bad "gdb is not installed (apt-get install gdb)"
elif [ ! -f "$VMLINUX" ]; then
	bad "no $VMLINUX (guest/build.sh keeps it next to the bzImage)"
else
	start=$(date +%s.%N)
	timeout -k 5 "$TIMEOUT" "$CKVM" run --kernel "${KERNEL:-$CACHE/bzImage}" \
		--initrd "${INITRD:-$CACHE/initramfs.cpio}" --memory "${MEM:-128M}" \
		--serial "file=$OUT" --cmdline "console=ttyS0 ckvm.test=boot nokaslr" \
		--gdb "tcp:127.0.0.1:$PORT" --gdb-wait </dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr" &
	VMPID=$!
	# gdb retries its connection itself only briefly: wait (bounded) for the stub's listener line
	i=0
	while ! grep -q 'waiting for a GDB client' "$WORK/$T.stderr" && kill -0 "$VMPID" 2>/dev/null &&
	      [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
	timeout -k 5 "$TIMEOUT" gdb -batch -nx "$VMLINUX" \
		-ex "target remote 127.0.0.1:$PORT" \
		-ex 'hbreak start_kernel' -ex continue -ex 'bt 8' -ex 'x/s &linux_banner' \
		-ex 'info registers rip cr3' -ex 'delete' -ex 'hbreak rest_init' -ex continue -ex 'bt 8' \
		-ex 'delete' -ex detach >"$GDBOUT" 2>&1
	GDBRC=$?
	wait "$VMPID"; RC=$?
	SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	BANNER=$(grep -o '"Linux version [^"]*' "$GDBOUT" | head -n 1 | cut -c2-60)
	if [ "$GDBRC" -ne 0 ]; then
		bad "gdb exit status $GDBRC"; sed 's/^/  gdb: /' "$GDBOUT" | tail -n 20
	elif ! grep -Eq '^Breakpoint 1, 0xffffffff[0-9a-f]+ in start_kernel \(\)' "$GDBOUT"; then
		bad "no stop at start_kernel"; sed 's/^/  gdb: /' "$GDBOUT" | tail -n 20
	elif ! grep -Eq '^#0 +0xffffffff[0-9a-f]+ in start_kernel \(\)' "$GDBOUT"; then
		bad "bt frame 0 is not start_kernel"; sed 's/^/  gdb: /' "$GDBOUT" | tail -n 20
	elif [ -z "$BANNER" ]; then
		bad "x/s linux_banner did not read 'Linux version'"; sed 's/^/  gdb: /' "$GDBOUT" | tail -n 20
	elif ! grep -Eq '^Breakpoint 2, 0xffffffff[0-9a-f]+ in rest_init \(\)' "$GDBOUT"; then
		bad "no stop at rest_init"; sed 's/^/  gdb: /' "$GDBOUT" | tail -n 20
	elif ! grep -q '(Remote target) detached' "$GDBOUT"; then
		bad "gdb did not detach"; sed 's/^/  gdb: /' "$GDBOUT" | tail -n 20
	elif [ "$RC" -ne 0 ]; then
		bad "exit status $RC (expected 0)"; sed 's/^/  ckvm: /' "$WORK/$T.stderr" | tail -n 5
	elif ! why=$(in_order CKVM-RELEASE CKVM-UPTIME CKVM-DONE); then
		bad "$why"
	else
		ok "start_kernel and rest_init hit, '$BANNER...' read, detached; boot ${SECS}s wall"
		echo "  backtraces without DWARF:"
		grep -E '^#[0-9]+ ' "$GDBOUT" | sed 's/^/    /'
	fi
fi
