# Unit tests (no /dev/kvm): each tests/unit/test_NAME.c is one binary linked with libckvm.a.
UNIT_TESTS := guest_mem bus exits config
UNIT_TESTS += pci virtio_pci virtio_net
UNIT_TESTS += bzimage elf raw
UNIT_BINS   = $(UNIT_TESTS:%=$(O)/tests/unit/test_%)

$(O)/tests/unit/test_%: $(O)/tests/unit/test_%.o $(O)/libckvm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(WARN) -Wno-missing-prototypes -c -o $@ $<

unit: $(UNIT_BINS)

# Unit tests run under ASan/UBSan in their own build directory.
check-unit:
	$(MAKE) O=$(O)/san SAN=1 unit
	tests/run-tier.sh unit $(UNIT_TESTS:%=$(O)/san/tests/unit/test_%)

.PHONY: unit check-unit
UNIT_TESTS += acpi mptable cpuid acpi_pm
