# Real-Linux tests against the default guest built by guest/build.sh (tests/linux/t_NAME.sh).
# The default tier runs in CI (about 9 minutes on a 2-core software-KVM host); the stock-kernel
# test is opt-in (its userspace needs real hardware virtualization).
LINUX_TESTS ?= boot shell blk net smp2 smp4 acpioff clock api

check-linux: $(O)/ckvm
	guest/build.sh
	tests/linux/run.sh $(O)/ckvm $(LINUX_TESTS)

# Opt-in: Debian's stock cloud kernel (virtio as modules), boot + disk.
check-linux-cloud: $(O)/ckvm
	guest/fetch-cloud-kernel.sh
	CKVM_LINUX_TIMEOUT=$${CKVM_LINUX_TIMEOUT:-1800} tests/linux/run.sh $(O)/ckvm cloud

.PHONY: check-linux check-linux-cloud
