# Real-Linux tests against the default guest built by guest/build.sh.
LINUX_TESTS ?= boot

check-linux: $(O)/ckvm
	guest/build.sh
	tests/linux/run.sh $(O)/ckvm $(LINUX_TESTS)

# Opt-in: Debian's stock cloud kernel (virtio as modules).
check-linux-cloud: $(O)/ckvm
	guest/fetch-cloud-kernel.sh
	tests/linux/run.sh $(O)/ckvm cloud

.PHONY: check-linux check-linux-cloud
