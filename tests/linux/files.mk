# Real-Linux tests against the default guest built by guest/build.sh (tests/linux/t_NAME.sh).
# The default tier runs in CI; the slow ones are opt-in (4 vCPUs on a 2-core software-KVM host
# take many minutes; the stock kernel's userspace needs real hardware virtualization).
LINUX_TESTS      ?= boot shell blk net smp2 acpioff clock
LINUX_TESTS_SLOW ?= smp4

check-linux: $(O)/ckvm
	guest/build.sh
	tests/linux/run.sh $(O)/ckvm $(LINUX_TESTS)

check-linux-slow: $(O)/ckvm
	guest/build.sh
	tests/linux/run.sh $(O)/ckvm $(LINUX_TESTS_SLOW)

# Opt-in: Debian's stock cloud kernel (virtio as modules), boot + disk.
check-linux-cloud: $(O)/ckvm
	guest/fetch-cloud-kernel.sh
	CKVM_LINUX_TIMEOUT=$${CKVM_LINUX_TIMEOUT:-1800} tests/linux/run.sh $(O)/ckvm cloud

.PHONY: check-linux check-linux-slow check-linux-cloud
