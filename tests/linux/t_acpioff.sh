# acpioff: a kernel booted with acpi=off finds both CPUs through the MP table; without ACPI it
# cannot power off, so the guest reboots (i8042 reset) and ckvm exits 0.
. "$HERE/smp_check.sh"
CMDLINE_EXTRA="quiet acpi=off ckvm.end=reboot" boot smp --cpus 2
smp_check 2 "reboot: Restarting system"
