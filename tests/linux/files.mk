# Real-Linux tests against the default guest built by guest/build.sh (tests/linux/t_NAME.sh).
# The default tier runs in CI, CKVM_LINUX_JOBS tests at once (default 2: one boot per host core;
# run.sh prints each test's seconds and the total; the 16 default tests took 809 s in a fresh-clone
# CI run on the 2-core software-KVM host); the stock-kernel test is opt-in (its userspace needs real
# hardware virtualization).
# kimage checks the host-inflated bzImage against vmlinux without booting; boot and kaslr boot with
# host-side decompression (the default), guestdecomp with the guest's own decompressor. kaslr runs
# the boot, configfile and gdb tests itself (it compares their kernels' addresses), so the default
# list names kaslr instead of them; each can still be run alone (LINUX_TESTS=boot).
# smp2 is opt-in (LINUX_TESTS=smp2): smp4 and configfile (2 vCPUs) cover what it checks, and the
# default suite has to stay near 30 minutes on a 2-core software-KVM host.
LINUX_TESTS ?= kimage kaslr guestdecomp shell blk net smp4 acpioff clock api snapmig vdevs
# Only into the default list, not into one given on the command line or in the environment:
# vublk (issue 12) a disk served by qemu-storage-daemon over vhost-user, and its hang-up (one boot);
# biosdisk (issue 9) SeaBIOS boots a GRUB disk image (tests/linux/mkdisk.sh) to the boot markers,
# ACPI via fw_cfg (~160 s on the 2-core software-KVM host, where GRUB and the kernel's decompressor
# run emulated).
# vunet (issue 12) a NIC served by dpdk-testpmd (macswap) over vhost-user, killed under the guest.
ifeq ($(origin LINUX_TESTS),file)
LINUX_TESTS += vublk vunet biosdisk
# vufs (issue 12): a host directory shared by virtiofsd over vhost-user (virtio-fs), its death.
LINUX_TESTS += vufs
endif

check-linux: $(O)/ckvm $(O)/tests/unit/test_kimage
	guest/build.sh
	tests/linux/run.sh $(O)/ckvm $(LINUX_TESTS)

# Opt-in: Debian's stock cloud kernel (virtio as modules), boot + disk.
check-linux-cloud: $(O)/ckvm
	guest/fetch-cloud-kernel.sh
	CKVM_LINUX_TIMEOUT=$${CKVM_LINUX_TIMEOUT:-1800} tests/linux/run.sh $(O)/ckvm cloud

.PHONY: check-linux check-linux-cloud
