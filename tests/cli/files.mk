# CLI tier (tests/cli/run.sh): the real binary against bad options and output files that name
# inputs, with two guests of its own: bzsmall (a minimal bzImage with a 40-byte cmdline_size) and
# wait (prints READY, then halts until ckvm is signalled; the "other VM" holding locks).
CLI_DIR := $(O)/tests/cli

$(CLI_DIR)/bzsmall.bin: tests/cli/bzsmall.S tests/guests/guest.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) -c -o $(@:.bin=.o) $<
	objcopy -O binary -j .text $(@:.bin=.o) $@

$(CLI_DIR)/wait.elf: tests/cli/wait.S $(GUEST_DIR)/lib.o tests/guests/guest.h tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $< $(GUEST_DIR)/lib.o

cli-guests: $(CLI_DIR)/bzsmall.bin $(CLI_DIR)/wait.elf $(GUEST_DIR)/serial64.elf $(GUEST_DIR)/hello.bin

check-cli: cli-guests $(O)/ckvm
	tests/cli/run.sh $(O)/ckvm $(CLI_DIR) $(GUEST_DIR)

.PHONY: cli-guests check-cli
