# Tiny freestanding test guests (tests/guests/*.S), one behaviour each, run by tests/guests/run.sh
# against ckvm: expected serial text in NAME.expect, arguments and exit status in guests.list.
# NAME-qemu.elf variants (64-bit guests behind a PVH shim) exist only to validate guests with QEMU.
GUEST_DIR     := $(O)/tests/guests
GUEST_CC      ?= gcc
GUEST_FLAGS   := -nostdlib -static -no-pie -fno-pic -ffreestanding -Itests/guests
GUEST_LDFLAGS := -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -Wl,-z,noseparate-code
GUEST_RAW     := hello reboot
GUEST_ELF     := serial64 pvh32 exitcode unclaimed triplefault int3 boottime spew
GUEST_ELF64   := serial64 unclaimed int3
GUEST_C       := virtio_hostile hostile_io blkread
GUEST_BINS    := $(GUEST_RAW:%=$(GUEST_DIR)/%.bin) $(GUEST_ELF:%=$(GUEST_DIR)/%.elf) \
		 $(GUEST_C:%=$(GUEST_DIR)/%.elf) $(GUEST_DIR)/blkreset.elf
GUEST_QEMU    := $(GUEST_ELF64:%=$(GUEST_DIR)/%-qemu.elf) $(GUEST_C:%=$(GUEST_DIR)/%-qemu.elf)
GUEST_CFLAGS  := -O2 -ffreestanding -fno-pic -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
		 -fno-asynchronous-unwind-tables -fcf-protection=none -Wall -Wextra -Werror

$(GUEST_DIR)/%.o: tests/guests/%.S tests/guests/guest.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) -c -o $@ $<

$(GUEST_DIR)/%.o: tests/guests/%.c tests/guests/cguest.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

# blkreset: blkread.c resetting the device with its read in flight
$(GUEST_DIR)/blkreset.o: tests/guests/blkread.c tests/guests/cguest.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -DBLK_RESET -c -o $@ $<

$(GUEST_DIR)/blkreset.elf: $(GUEST_DIR)/blkreset.o $(GUEST_DIR)/crt64.o tests/guests/guest.ld
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $(GUEST_DIR)/crt64.o $<

# C guests: crt64.S entry + the C file (+ the PVH shim for the QEMU variant)
$(GUEST_C:%=$(GUEST_DIR)/%.elf): $(GUEST_DIR)/%.elf: $(GUEST_DIR)/%.o $(GUEST_DIR)/crt64.o tests/guests/guest.ld
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $(GUEST_DIR)/crt64.o $<

$(GUEST_C:%=$(GUEST_DIR)/%-qemu.elf): $(GUEST_DIR)/%-qemu.elf: $(GUEST_DIR)/%.o $(GUEST_DIR)/crt64.o \
		$(GUEST_DIR)/pvh64.o tests/guests/guest.ld
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $(GUEST_DIR)/crt64.o $< \
		$(GUEST_DIR)/pvh64.o

$(GUEST_DIR)/%.bin: $(GUEST_DIR)/%.o tests/guests/flat.ld
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/flat.ld -o $(@:.bin=.rom.elf) $<
	objcopy -O binary $(@:.bin=.rom.elf) $@

$(GUEST_DIR)/%.elf: $(GUEST_DIR)/%.o $(GUEST_DIR)/lib.o tests/guests/guest.ld
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $< $(GUEST_DIR)/lib.o

$(GUEST_DIR)/%-qemu.elf: $(GUEST_DIR)/%.o $(GUEST_DIR)/lib.o $(GUEST_DIR)/pvh64.o tests/guests/guest.ld
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $< \
		$(GUEST_DIR)/lib.o $(GUEST_DIR)/pvh64.o

# Boot sectors for --bios (16-bit, linked at 0x7C00), padded to a 1 MiB raw disk image.
GUEST_MBR     := mbr fwhostile
GUEST_BINS    += $(GUEST_MBR:%=$(GUEST_DIR)/%.img)
$(GUEST_MBR:%=$(GUEST_DIR)/%.img): $(GUEST_DIR)/%.img: tests/guests/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) -c -o $(@:.img=.mbr.o) $<
	ld -Ttext=0x7c00 -e _start -o $(@:.img=.mbr.elf) $(@:.img=.mbr.o)
	objcopy -O binary $(@:.img=.mbr.elf) $@
	truncate -s 1M $@

# The same boot sector as a 1.44 MB floppy image (--floppy).
$(GUEST_DIR)/mbr-floppy.img: $(GUEST_DIR)/mbr.img
	head -c 1474560 $< > $@.tmp
	truncate -s 1474560 $@.tmp
	mv $@.tmp $@
GUEST_BINS    += $(GUEST_DIR)/mbr-floppy.img

guests: $(GUEST_BINS) $(GUEST_QEMU)

# The hostile guests (%SAN in guests.list) run against an ASan/UBSan ckvm, built in $(O)/san like the
# unit tests' library.
check-guests: guests $(O)/ckvm
	$(MAKE) O=$(O)/san SAN=1 $(O)/san/ckvm
	CKVM_SAN=$(O)/san/ckvm tests/guests/run.sh $(O)/ckvm $(GUEST_DIR)

# QEMU cross-check of the guests themselves (not part of `check`).
check-guests-qemu: guests
	tests/guests/run.sh --qemu $(GUEST_DIR)

# Exit-cost benchmark against QEMU (bench/exit-bench.sh); never part of `check`.
BENCH_GUEST := $(O)/bench/guest.elf
$(BENCH_GUEST): bench/guest.S $(GUEST_DIR)/lib.o tests/guests/guest.h tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $< $(GUEST_DIR)/lib.o

# The floor: a bare KVM_RUN loop over the same guest (bench/rawloop.c).
$(O)/bench/rawloop: bench/rawloop.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -o $@ $<

bench: $(BENCH_GUEST) $(O)/bench/rawloop $(O)/ckvm
	bench/exit-bench.sh $(O)/ckvm $(BENCH_GUEST)

.PHONY: guests check-guests check-guests-qemu bench
.SECONDARY: $(GUEST_DIR)/lib.o $(GUEST_DIR)/pvh64.o $(GUEST_DIR)/crt64.o $(GUEST_C:%=$(GUEST_DIR)/%.o) $(GUEST_RAW:%=$(GUEST_DIR)/%.o) $(GUEST_ELF:%=$(GUEST_DIR)/%.o)
