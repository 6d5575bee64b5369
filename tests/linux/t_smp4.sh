# smp4: four vCPUs (more than this host's cores) through ACPI; poweroff -f ends ckvm with 0.
. "$HERE/smp_check.sh"
CMDLINE_EXTRA=quiet boot smp --cpus 4
smp_check 4 "reboot: Power down"
