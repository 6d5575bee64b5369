# smp2: two vCPUs through ACPI's MADT; poweroff -f reaches ACPI S5 and ckvm exits 0.
. "$HERE/smp_check.sh"
CMDLINE_EXTRA=quiet boot smp --cpus 2
smp_check 2 "reboot: Power down"
