# Unit tests (no /dev/kvm): each tests/unit/test_NAME.c is one binary linked with libckvm.a.
# One line per area; keep every UNIT_TESTS line ABOVE the rules (prerequisites expand when read).
UNIT_TESTS := guest_mem bus exits config outfile
UNIT_TESTS += pci virtio_pci virtio_net
UNIT_TESTS += bzimage elf raw
UNIT_TESTS += acpi mptable cpuid acpi_pm
UNIT_TESTS += virtq virtio_blk
UNIT_TESTS += uart i8042 cmos console
UNIT_TESTS += boot_markers
UNIT_TESTS += api pause
UNIT_BINS   = $(UNIT_TESTS:%=$(O)/tests/unit/test_%)

$(O)/tests/unit/test_%: $(O)/tests/unit/test_%.o $(O)/libckvm.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# Tests that drive devices through the driver-side virtqueue mock link it in.
$(O)/tests/unit/test_virtq $(O)/tests/unit/test_virtio_blk: $(O)/tests/unit/vq_mock.o

$(O)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(WARN) -Wno-missing-prototypes -c -o $@ $<

unit: $(UNIT_BINS)

# Unit tests run under ASan/UBSan in their own build directory; the ACPI tables they build are
# also disassembled and recompiled with iasl (tests/acpi-iasl.sh).
check-unit:
	$(MAKE) O=$(O)/san SAN=1 unit
	TEST_ACPI=$(O)/san/tests/unit/test_acpi tests/run-tier.sh unit \
		$(UNIT_TESTS:%=$(O)/san/tests/unit/test_%) tests/acpi-iasl.sh

.PHONY: unit check-unit
