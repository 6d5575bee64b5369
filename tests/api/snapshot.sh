# Snapshot/restore in the API tier (sourced by tests/api/run.sh: uses its start/api/expect/ok/bad/
# stopped/wait_serial and $ckvm $gdir $work $S). The count guest prints 1, 2, 3, ...; it is
# snapshotted through the API, killed, and restored in a new process (--restore and PUT
# /snapshot/load) where it must continue at the next number: none missing, none repeated.

# seq_ok FILE...: the numbers in the files, in order, are 1..N with nothing missing or repeated
seq_ok() {
	cat "$@" | grep -E '^[0-9]+$' | awk 'BEGIN{n=0} { if ($1 != n + 1) { print "after " n " came " $1; exit 1 } n = $1 }
		END { if (n < 2) { print "only " n " numbers"; exit 1 } }'
}
# wait_more FILE N: FILE has at least N numbered lines
wait_more() {
	local n
	for _ in $(seq 200); do
		n=$(grep -cE '^[0-9]+$' "$1" 2>/dev/null)
		[ "${n:-0}" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

echo "--- snapshot / restore (count guest)"
C="run --kernel $gdir/count.elf --memory 128M"
T=snap-start; start $C --serial "file=$work/c1.log" --api-sock "$S" && wait_more "$work/c1.log" 5 && ok ||
	bad "no numbers"
T=snap-not-paused; api PUT /snapshot/create "{\"snapshot_path\":\"$work/s1.state\",\"mem_file_path\":\"$work/s1.mem\"}"
expect 400 'paused'
T=snap-bad-type; api PUT /snapshot/create "{\"snapshot_path\":\"$work/x\",\"mem_file_path\":\"$work/y\",\"snapshot_type\":\"Half\"}"
expect 400 'Full'
T=snap-pause; api PATCH /vm '{"state":"Paused"}'; expect 204
T=snap-create; api PUT /snapshot/create "{\"snapshot_path\":\"$work/s1.state\",\"mem_file_path\":\"$work/s1.mem\",\"snapshot_type\":\"Full\"}"
expect 204
s1_last=$(grep -E '^[0-9]+$' "$work/c1.log" | tail -n 1)
T=snap-files; [ -s "$work/s1.state" ] && [ "$(stat -c %s "$work/s1.mem")" = $((128 << 20)) ] &&
	! ls "$work"/*.tmp >/dev/null 2>&1 && ok || bad "$(ls -l "$work")"
T=snap-sparse; blocks=$(du -k "$work/s1.mem" | cut -f1)
[ "$blocks" -lt 4096 ] && ok "$blocks KiB on disk of 131072" || bad "$blocks KiB on disk"
T=snap-ctl; "$ckvm" ctl --api-sock "$S" snapshot --to "$work/snapdir" >/dev/null 2>"$work/ctl.err" &&
	[ -s "$work/snapdir/state" ] && [ -f "$work/snapdir/mem" ] && ok || bad "$(cat "$work/ctl.err")"
T=snap-diff-first; api PUT /snapshot/create "{\"snapshot_path\":\"$work/d.state\",\"mem_file_path\":\"$work/other.mem\",\"snapshot_type\":\"Diff\"}"
expect 400 'previous snapshot'
# Diff: the guest runs on, then only the pages written since go into snapdir/mem
T=snap-diff; api PATCH /vm '{"state":"Resumed"}'; n=$(grep -cE '^[0-9]+$' "$work/c1.log")
wait_more "$work/c1.log" $((n + 5)) && api PATCH /vm '{"state":"Paused"}' &&
	"$ckvm" ctl --api-sock "$S" snapshot --to "$work/snapdir" --diff >/dev/null 2>"$work/ctl.err" &&
	ok "$(grep -o 'Diff snapshot: .* KiB of [0-9]* MiB' "$work/err" | tail -n 1)" || bad "$(cat "$work/ctl.err")"
T=snap-diff-small; kib=$(grep -o 'Diff snapshot: [0-9]* bytes of state, [0-9]* KiB' "$work/err" | tail -n 1 |
	sed 's/.* \([0-9]*\) KiB/\1/')
[ -n "$kib" ] && [ "$kib" -lt 1024 ] && ok "$kib KiB of RAM written" || bad "${kib:-?} KiB written"
kill -KILL "$vmpid"; wait "$vmpid" 2>/dev/null; vmpid=
last=$(grep -E '^[0-9]+$' "$work/c1.log" | tail -n 1)

T=restore-run; start $C --serial "file=$work/c2.log" --restore "$work/snapdir" --api-sock "$S" &&
	wait_more "$work/c2.log" 5 && ok "continued after $last" || bad "no numbers after restore"
T=restore-sequence; r=$(seq_ok "$work/c1.log" "$work/c2.log") && ok || bad "$r"
T=restore-registers-ram; grep -q MISMATCH "$work/c2.log" && bad "the count in RAM and in %r12 disagree" || ok
T=restore-again; api PATCH /vm '{"state":"Paused"}' && "$ckvm" ctl --api-sock "$S" snapshot --to "$work/snap2" \
	>/dev/null 2>&1 && ok || bad "a restored VM cannot be snapshotted again"
kill -KILL "$vmpid"; wait "$vmpid" 2>/dev/null; vmpid=
# shared RAM (a memfd, as vhost-user needs) is filled from the memory file, not replaced by a mapping
T=restore-shared; start run --kernel "$gdir/count.elf" --memory 128M,shared=on --serial "file=$work/c4.log" \
	--restore "$work/snapdir" --api-sock "$S" && wait_more "$work/c4.log" 5 &&
	r=$(seq_ok "$work/c1.log" "$work/c4.log") && ! grep -q MISMATCH "$work/c4.log" && ok "continued after $last" ||
	bad "${r:-no numbers after a restore into shared RAM}"
kill -KILL "$vmpid"; wait "$vmpid" 2>/dev/null; vmpid=

echo "--- PUT /snapshot/load"
T=load-start; start --api-sock "$S" && ok || bad "no socket"
api PUT /boot-source "{\"kernel_image_path\":\"$gdir/count.elf\"}"
api PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}'
T=load-bad-backend; api PUT /snapshot/load "{\"snapshot_path\":\"$work/s1.state\",\"mem_backend\":{\"backend_type\":\"Uffd\",\"backend_path\":\"/x\"}}"
expect 400 'File'
T=load; api PUT /snapshot/load "{\"snapshot_path\":\"$work/s1.state\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$work/s1.mem\"},\"resume_vm\":false}"
expect 204
T=load-paused; api GET /; expect 200 '"state":"Paused"'
T=load-resume; api PATCH /vm '{"state":"Resumed"}'; expect 204
grep -E '^[0-9]+$' "$work/c1.log" | awk -v m="$s1_last" '$1 <= m' > "$work/c1-s1.log"
T=load-continues; wait_more "$work/out" 5 && r=$(seq_ok "$work/c1-s1.log" "$work/out") && ok "after $s1_last" ||
	bad "${r:-no numbers}"
kill -TERM "$vmpid"; T=load-exit; stopped 0

echo "--- a damaged snapshot is refused before anything runs"
# restore_refused NAME REGEX ARGS...: status 1, one line matching REGEX, no guest output
restore_refused() {
	local name=$1 re=$2 rc; shift 2
	T=$name; rm -f "$work/c3.log"
	"$ckvm" "$@" --serial "file=$work/c3.log" </dev/null >/dev/null 2>"$work/err"; rc=$?
	if [ "$rc" -ne 1 ]; then bad "status $rc"
	elif ! grep -Eq "$re" "$work/err"; then bad "no line matching /$re/"
	elif grep -qE '^[0-9]+$' "$work/c3.log" 2>/dev/null; then bad "the guest ran"
	else ok "$(grep -E "$re" "$work/err" | head -n 1 | cut -c1-110)"; fi
}
mkdir -p "$work/trunc" "$work/flip" "$work/shape"
cp "$work/snapdir/mem" "$work/trunc/mem"; head -c 5000 "$work/snapdir/state" > "$work/trunc/state"
restore_refused restore-truncated 'truncated' $C --restore "$work/trunc"
cp "$work/snapdir/mem" "$work/flip/mem"; cp "$work/snapdir/state" "$work/flip/state"
printf '\x5a' | dd of="$work/flip/state" bs=1 seek=3000 conv=notrunc status=none
restore_refused restore-bitflip 'damaged' $C --restore "$work/flip"
restore_refused restore-missing 'No such file' $C --restore "$work/nonexistent"
restore_refused restore-other-memory 'same --cpus and --memory' run --kernel "$gdir/count.elf" --memory 256M \
	--restore "$work/snapdir"
cp "$work/snapdir/state" "$work/shape/state"; head -c 4096 "$work/snapdir/mem" > "$work/shape/mem"
restore_refused restore-short-mem 'memory file' $C --restore "$work/shape"

echo "--- a VM with a vhost-user file system: its snapshot is refused, the VM runs on"
# virtiofsd (qemu-system-common) serves --fs; the back-end's queue state cannot be saved.
if [ -x /usr/lib/qemu/virtiofsd ]; then
	mkdir -p "$work/vfs-share"
	/usr/lib/qemu/virtiofsd --socket-path="$work/vfs.sock" -o source="$work/vfs-share" -o cache=none \
		-o sandbox=chroot >"$work/vfsd.log" 2>&1 &
	fpid=$!
	for _ in $(seq 100); do [ -S "$work/vfs.sock" ] && break; sleep 0.05; done
	T=snap-vufs-start; start run --kernel "$gdir/count.elf" --memory 128M,shared=on \
		--fs "tag=t,socket=$work/vfs.sock" --serial "file=$work/v1.log" --api-sock "$S" &&
		wait_more "$work/v1.log" 5 && ok || bad "no numbers"
	T=snap-vufs-pause; api PATCH /vm '{"state":"Paused"}'; expect 204
	T=snap-vufs-refused; api PUT /snapshot/create "{\"snapshot_path\":\"$work/v.state\",\"mem_file_path\":\"$work/v.mem\"}"
	expect 400 'device vfs0 \(vhost-user-fs\) cannot save its state'
	T=snap-vufs-no-state-file; [ ! -e "$work/v.state" ] && ok || bad "a state file was written"
	T=snap-vufs-runs-on; api PATCH /vm '{"state":"Resumed"}'; n=$(grep -cE '^[0-9]+$' "$work/v1.log")
	wait_more "$work/v1.log" $((n + 5)) && ok || bad "the guest stopped at $n"
	kill -TERM "$vmpid"; T=snap-vufs-exit; stopped 0
	kill -KILL "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null
else
	T=snap-vufs; bad "/usr/lib/qemu/virtiofsd missing (scripts/deps.sh test installs qemu-system-common)"
fi
