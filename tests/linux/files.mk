# Real-Linux tests against the default guest built by guest/build.sh (tests/linux/t_NAME.sh).
# The default tier runs in CI (about 17 minutes and 13 boots on a 2-core software-KVM host; run.sh
# prints the total); the stock-kernel test is opt-in (its userspace needs real hardware
# virtualization).
# kimage checks the host-inflated bzImage against vmlinux without booting; boot and kaslr boot with
# host-side decompression (the default), guestdecomp with the guest's own decompressor.
LINUX_TESTS ?= kimage boot kaslr guestdecomp shell blk net smp2 smp4 acpioff clock api configfile
# virtio-rng, vsock and balloon in one boot (tests/linux/t_vdevs.sh)
LINUX_TESTS += vdevs

check-linux: $(O)/ckvm $(O)/tests/unit/test_kimage
	guest/build.sh
	tests/linux/run.sh $(O)/ckvm $(LINUX_TESTS)

# Opt-in: Debian's stock cloud kernel (virtio as modules), boot + disk.
check-linux-cloud: $(O)/ckvm
	guest/fetch-cloud-kernel.sh
	CKVM_LINUX_TIMEOUT=$${CKVM_LINUX_TIMEOUT:-1800} tests/linux/run.sh $(O)/ckvm cloud

.PHONY: check-linux check-linux-cloud
