# smp4: four vCPUs (more than this host's cores) through ACPI; poweroff -f ends ckvm with 0.
# nofsgsbase (SMP_EXTRA): see smp_check.sh.
. "$HERE/smp_check.sh"
CMDLINE_EXTRA="quiet $SMP_EXTRA" boot smp --cpus 4
smp_check 4 "reboot: Power down"
