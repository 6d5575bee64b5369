# smp_check N: shared by t_smp2/t_smp4/t_acpioff. They boot with `quiet` so that kernel console
# messages cannot split the guest's marker lines (dmesg itself still has everything). The guest (ckvm.test=smp) prints its CPU count and
# the dmesg lines about kvm-clock and PV TLB flush, then powers off (ACPI S5) or reboots.
smp_check() {
	local n=$1 how=$2
	if [ "$RC" -ne 0 ]; then
		bad "exit status $RC"
	elif [ "$(marker CKVM-NPROC)" != "$n" ]; then
		bad "guest sees $(marker CKVM-NPROC) CPUs, expected $n"
	elif ! grep -q 'CKVM-DMESG.*kvm-clock' "$OUT"; then
		bad "no kvm-clock in dmesg"
	elif ! grep -q 'CKVM-DMESG.*KVM setup pv remote TLB flush' "$OUT"; then
		bad "no 'KVM setup pv remote TLB flush' in dmesg"
	elif ! grep -q "$how" "$OUT"; then
		bad "guest did not end with '$how'"
	else
		ok "nproc $n, kvm-clock, PV TLB flush, ended by '$how', ${SECS}s"
	fi
}
