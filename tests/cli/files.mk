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

# `ckvm test` tier (tests/cli/testmode.sh): flat real-mode guests, one per outcome (tm_*.S), plus
# hello.bin, triplefault.elf, spew.elf, boottime.elf and mbr.img from tests/guests.
TM_GUESTS := $(patsubst tests/cli/%.S,$(CLI_DIR)/%.bin,$(wildcard tests/cli/tm_*.S))

$(CLI_DIR)/tm_%.bin: tests/cli/tm_%.S tests/cli/tm16.h tests/guests/guest.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) -Itests/cli -c -o $(@:.bin=.o) $<
	objcopy -O binary -j .text $(@:.bin=.o) $@

# tm_vga as a boot sector for --bios: the code is position-independent, so SeaBIOS's 0:7C00 works;
# the boot signature at 510, then padding to 1 MiB (SeaBIOS wants at least one cylinder).
$(CLI_DIR)/tm_vga.img: $(CLI_DIR)/tm_vga.bin
	cp $< $@ && truncate -s 510 $@ && printf '\125\252' >> $@ && truncate -s 1M $@

testmode-guests: $(TM_GUESTS) $(GUEST_DIR)/hello.bin $(GUEST_DIR)/triplefault.elf $(GUEST_DIR)/spew.elf $(GUEST_DIR)/boottime.elf \
		 $(CLI_DIR)/tm_vga.img $(GUEST_DIR)/mbr.img

check-testmode: testmode-guests $(O)/ckvm
	tests/cli/testmode.sh $(O)/ckvm $(CLI_DIR) $(GUEST_DIR)

.PHONY: testmode-guests check-testmode

# bench/testmode.sh's guest: PVH, so QEMU boots the same file with -kernel.
$(CLI_DIR)/pvh_f4.elf: tests/cli/pvh_f4.S $(GUEST_DIR)/lib.o tests/guests/guest.h tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $< $(GUEST_DIR)/lib.o
