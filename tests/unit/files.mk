# Unit tests (no /dev/kvm): each tests/unit/test_NAME.c is one binary linked with libckvm.a.
# One line per area; keep every UNIT_TESTS line ABOVE the rules (prerequisites expand when read).
UNIT_TESTS := guest_mem bus exits config outfile
UNIT_TESTS += pci virtio_pci virtio_net
UNIT_TESTS += bzimage elf raw
UNIT_TESTS += kdecomp kdecomp_nolib
UNIT_TESTS += acpi mptable cpuid acpi_pm
UNIT_TESTS += acpi_fwcfg
UNIT_TESTS += virtq virtio_blk blk_swap
UNIT_TESTS += uart i8042 cmos console serial_out
UNIT_TESTS += boot_markers
UNIT_TESTS += api pause device
UNIT_TESTS += fw_cfg ata
UNIT_TESTS += board_fw
UNIT_TESTS += devstate
UNIT_TESTS += vdevstate vdevstate_net
UNIT_TESTS += expect screen report gdb_proto
UNIT_TESTS += gdb_stub
UNIT_TESTS += vhost_user vhost_user_bad vhost_user_qsd
UNIT_TESTS += vhost_user_fs
UNIT_TESTS += vhost_user_net
UNIT_TESTS += snapshot_fmt
UNIT_TESTS += migrate_stream
UNIT_TESTS += vdevs
UNIT_TESTS += sandbox
UNIT_BINS   = $(UNIT_TESTS:%=$(O)/tests/unit/test_%)

$(O)/tests/unit/test_%: $(O)/tests/unit/test_%.o $(O)/libckvm.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# Tests that drive devices through the driver-side virtqueue mock link it in.
$(O)/tests/unit/test_virtq $(O)/tests/unit/test_virtio_blk $(O)/tests/unit/test_blk_swap: $(O)/tests/unit/vq_mock.o
$(O)/tests/unit/test_vdevstate $(O)/tests/unit/test_vdevstate_net: $(O)/tests/unit/vq_mock.o
# The vhost-user tests talk to a fake back-end thread (tests/unit/vhu_fake.c).
$(O)/tests/unit/test_vhost_user $(O)/tests/unit/test_vhost_user_bad: $(O)/tests/unit/vhu_fake.o
$(O)/tests/unit/test_vhost_user_fs: $(O)/tests/unit/vhu_fake.o
$(O)/tests/unit/test_vhost_user_net: $(O)/tests/unit/vhu_fake.o
# ... or to qemu-storage-daemon, driven through the driver-side queue mock.
$(O)/tests/unit/test_vhost_user_qsd: $(O)/tests/unit/vq_mock.o
$(O)/tests/unit/test_vdevs: $(O)/tests/unit/vq_mock.o
# Host-decompression tests build their synthetic kernels with the compressors in kimg_mock.c.
$(O)/tests/unit/test_kdecomp: $(O)/tests/unit/kimg_mock.o
# ... and once against a decompress.c built as if libzstd were missing (linked ahead of libckvm.a).
$(O)/tests/unit/test_kdecomp_nolib: $(O)/tests/unit/decompress_nozstd.o $(O)/tests/unit/kimg_mock.o
$(O)/tests/unit/decompress_nozstd.o: src/boot/decompress.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -DHAVE_ZSTD,$(CPPFLAGS)) $(CFLAGS) $(WARN) -c -o $@ $<

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

# ThreadSanitizer tier: the unit tests and ckvm built with SAN=thread in $(O)/tsan, then the unit
# tests, the tiny guests (tests/guests/run.sh) and the stop tests (tests/stop/run.py: signals, stalls,
# abandoned threads) run against that ckvm. A race report fails the program that printed it: TSan's
# exit status 66 (unit tests, guests), or the stop tests' check of ckvm's stderr.
TSAN_OPTIONS_CKVM := halt_on_error=0 exitcode=66 second_deadlock_stack=1
check-tsan: guests $(O)/tests/stop/hang.so
	$(MAKE) O=$(O)/tsan SAN=thread unit $(O)/tsan/ckvm
	TSAN_OPTIONS="$(TSAN_OPTIONS_CKVM)" tests/run-tier.sh tsan \
		$(UNIT_TESTS:%=$(O)/tsan/tests/unit/test_%) \
		"tests/guests/run.sh $(O)/tsan/ckvm $(GUEST_DIR)" \
		"tests/guests/gdb.sh $(O)/tsan/ckvm $(GUEST_DIR)" \
		"tests/stop/run.py $(O)/tsan/ckvm $(GUEST_DIR) $(O)/tests/stop/hang.so"

.PHONY: check-tsan
