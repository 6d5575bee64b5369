# biosdisk: a whole PC disk image booted by its own bootloader, as a user's image would be:
# tests/linux/mkdisk.sh puts the default guest's bzImage and initramfs on a FAT12 partition with
# GRUB i386-pc in the MBR and the gap after it (no mount), and `ckvm run --bios --disk path=IMG
# --cpus 2` runs SeaBIOS, which boots the MBR -> GRUB -> Linux (decompressing itself). (syslinux 6
# cannot run on a software-KVM host: see mkdisk.sh.) The guest must reach init's boot markers with
# both vCPUs, find ckvm's ACPI tables through fw_cfg's table-loader (kernel lines "ACPI: RSDP ...
# CKVM" in the BIOS area and the MADT), and power off through ACPI S5 (DSDT \_S5); ckvm exits 0.
# Cost on a 2-core software-KVM host, where GRUB's and the decompressor's code is emulated: SeaBIOS
# ~5 s, GRUB's small core ~6 s, its linux module from the disk ~10 s, reading the 6 MB kernel and
# initramfs through int 13h plus the kernel's own decompression ~90 s, the kernel to init ~80 s:
# ~200 s in all. The disk stays on virtio-blk: SeaBIOS's ATA PIO was no faster (GRUB's read rate is
# bound by its own emulated instructions, not by exits). Own timeout CKVM_BIOSDISK_TIMEOUT: 600 s.
BIOSDISK_IMG=$WORK/biosdisk.img
# On a software-KVM host ckvm appends its work-arounds to a kernel it loads itself
# (quirks_linux_cmdline in src/arch/x86/quirks.c: its emulator cannot run XRSTOR and friends); a
# kernel loaded by a bootloader only gets what the image says, so the image says the same.
BIOSDISK_QUIRKS=
if [ -e /sys/module/kvm_pvm ] || ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	BIOSDISK_QUIRKS="noxsave noreplace-smp rodata=off nofsgsbase clearcpuid=smap,popcnt,ssse3,erms,fsrm,rep_good"
fi
if ! "$HERE/mkdisk.sh" grub "$BIOSDISK_IMG" "$CACHE/bzImage" "$CACHE/initramfs.cpio" \
	"console=ttyS0 ckvm.test=boot ckvm.end=poweroff $BIOSDISK_QUIRKS" >"$WORK/$T.mkdisk" 2>&1; then
	OUT=$WORK/$T.mkdisk
	bad "mkdisk.sh failed: $(tail -n 1 "$WORK/$T.mkdisk")"
else
	OUT=$WORK/$T.serial
	start=$(date +%s.%N)
	timeout -k 5 "${CKVM_BIOSDISK_TIMEOUT:-600}" "$CKVM" run --bios --disk "path=$BIOSDISK_IMG" --cpus 2 --memory "${MEM:-128M}" \
		--serial "file=$OUT" </dev/null >"$WORK/$T.stdout" 2>"$WORK/$T.stderr"
	RC=$?
	SECS=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
	[ "$RC" -eq 124 ] && echo "  $T: timed out after ${CKVM_BIOSDISK_TIMEOUT:-600}s"
	[ -s "$WORK/$T.stderr" ] && sed 's/^/  ckvm: /' "$WORK/$T.stderr" | head -5
	# The kernel's table lines: "ACPI: RSDP 0x00000000000F5A40 000024 (v02 CKVM  )".
	rsdp=$(tr -d '\r' <"$OUT" | grep -o 'ACPI: RSDP 0x[0-9A-Fa-f]* [0-9A-Fa-f]* (v02 CKVM' | head -n 1)
	rsdp_gpa=$(echo "$rsdp" | sed -n 's/^ACPI: RSDP 0x\([0-9A-Fa-f]*\) .*/\1/p')
	if [ "$RC" -ne 0 ]; then
		bad "exit status $RC (expected 0)"
	elif ! grep -q 'GRUB loading' "$OUT"; then
		bad "GRUB did not start (no 'GRUB loading' from its boot sector on the console)"
	elif ! why=$(in_order CKVM-RELEASE CKVM-UPTIME CKVM-NPROC CKVM-KTEXT CKVM-DONE); then
		bad "$why"
	elif [ "$(marker CKVM-NPROC)" != 2 ]; then
		bad "guest sees $(marker CKVM-NPROC) CPUs, expected 2"
	elif [ -z "$rsdp_gpa" ]; then
		bad "the kernel found no ckvm RSDP (no 'ACPI: RSDP ... (v02 CKVM' line)"
	elif [ $((0x$rsdp_gpa)) -lt $((0xe0000)) ] || [ $((0x$rsdp_gpa)) -ge $((0x100000)) ]; then
		bad "RSDP at 0x$rsdp_gpa, not in the BIOS area where SeaBIOS's loader puts it"
	elif ! grep -q 'ACPI: APIC 0x[0-9A-Fa-f]* [0-9A-Fa-f]* (v05 CKVM' "$OUT"; then
		bad "no ckvm MADT in the kernel's table list"
	elif grep -q '^CKVM-FAIL' "$OUT"; then
		bad "guest: $(grep '^CKVM-FAIL' "$OUT" | head -n 1)"
	elif ! grep -q 'reboot: Power down' "$OUT"; then
		bad "guest did not power off through ACPI S5"
	else
		ok "SeaBIOS+GRUB: nproc 2, RSDP at 0x$rsdp_gpa, init at uptime $(marker CKVM-UPTIME)s, ${SECS}s wall"
		echo "  bios disk boot: ${SECS} s from exec to exit (SeaBIOS, GRUB, guest decompression)"
	fi
fi
