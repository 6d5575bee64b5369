# cloud (opt-in, make check-linux-cloud): Debian's stock linux-image-cloud-amd64, unmodified, with
# an initramfs that loads its virtio modules and runs ckvm.test=boot with a virtio disk attached.
# On VT-x/SVM hosts the full marker sequence and exit 0 are required. On a software-KVM host the
# stock kernel's userspace cannot run (64-bit syscall is broken there; the default guest carries a
# patch for it), so there the test requires the kernel to reach "Run /init" and reports how far
# and how fast it got.
IMG=$WORK/cloud-disk.img
truncate -s 16M "$IMG"
KERNEL=$CACHE/cloud/vmlinuz INITRD=$CACHE/cloud/initramfs.cpio MEM=256M boot boot --disk "path=$IMG"
init_at=$(sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' "$OUT" | head -n 1)
soft=0
[ -e /sys/module/kvm_pvm ] && soft=1
grep -qE '^flags.*\b(vmx|svm)\b' /proc/cpuinfo || soft=1
if [ "$soft" -eq 0 ]; then
	if [ "$RC" -ne 0 ] || ! in_order CKVM-RELEASE CKVM-DONE >/dev/null; then
		bad "exit status $RC, markers missing"
	else
		ok "stock kernel $(marker CKVM-RELEASE) booted to init and rebooted in ${SECS}s"
	fi
elif [ -n "$init_at" ]; then
	ok "software-KVM host: stock kernel reached Run /init at ${init_at}s guest time (${SECS}s wall, status $RC)"
else
	bad "stock kernel did not reach Run /init in ${SECS}s (status $RC)"
fi
