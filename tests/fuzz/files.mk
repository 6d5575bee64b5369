# libFuzzer targets (clang, ASan+UBSan), one per parser the guest or the user feeds (README "Fuzzing").
# `make fuzz` builds them; `make check-fuzz` seeds each corpus (gen_seeds, built by the normal compiler,
# plus any committed files in tests/fuzz/seeds/NAME/) and runs each target for FUZZ_TIME seconds,
# FUZZ_JOBS at a time (default 2, one per core of the 2-core CI host); `make fuzz-long` does the same
# for an hour per target, all cores.
# A target passes when it ran its time without a crash. Add a target: FUZZ_TARGETS += name,
# FUZZ_SRCS_name := sources, tests/fuzz/fuzz_name.c, seeds in gen_seeds*.c or tests/fuzz/seeds/name/.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 10
FUZZ_JOBS    ?= 2
FUZZ_LONG_TIME ?= 3600
FUZZ_LONG_JOBS ?= $(shell nproc)
FUZZ_DIR     := $(O)/fuzz
FUZZ_FLAGS   := -std=gnu11 -D_GNU_SOURCE -Isrc -Itests/unit -Itests/fuzz -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(WARN)
FUZZ_TARGETS := virtq virtio_blk virtio_net pci loaders config
# Worker threads enter the sandbox; the stub stands in for the console it would restore.
FUZZ_SRCS_sandbox    := src/core/sandbox.c tests/fuzz/console_stub.c
FUZZ_SRCS_virtq      := src/virtio/virtq.c src/core/guest_mem.c src/core/device.c src/log.c
FUZZ_SRCS_virtio_blk := $(FUZZ_SRCS_virtq) src/virtio/virtio_blk.c src/virtio/virtio_blk_life.c src/backend/blk_file.c \
			$(FUZZ_SRCS_sandbox)
FUZZ_SRCS_virtio_net := $(FUZZ_SRCS_virtq) src/virtio/virtio_net.c src/virtio/virtio_net_life.c src/core/evloop.c
FUZZ_SRCS_pci        := $(FUZZ_SRCS_virtq) src/dev/pci.c src/dev/msix.c src/virtio/virtio_pci.c src/virtio/virtio_pci_state.c \
			src/core/evloop.c
# bzimage.c reaches the host-decompression path (bzimage_host.c, kaslr.c, src/boot/decompress.c).
FUZZ_SRCS_kboot      := src/boot/decompress.c src/arch/x86/bzimage_host.c src/arch/x86/kaslr.c
FUZZ_SRCS_loaders    := src/arch/x86/bzimage.c src/arch/x86/elf.c src/arch/x86/raw.c \
			src/arch/x86/e820.c src/core/guest_mem.c src/log.c $(FUZZ_SRCS_kboot)
FUZZ_SRCS_config     := src/config.c src/config_sub.c src/config_check.c src/config_vdevs.c src/config_print.c src/osdev/gdb_stub_spec.c \
			src/backend/outfile.c $(FUZZ_SRCS_sandbox) src/backend/tap.c src/log.c src/core/guest_mem.c
# Host-side bzImage decompression and loading; seeds from tests/unit/kimg_mock.c (gen_seeds kdecomp).
FUZZ_TARGETS += kdecomp
FUZZ_SRCS_kdecomp    := src/arch/x86/bzimage.c src/arch/x86/elf.c src/arch/x86/e820.c \
			src/core/guest_mem.c src/log.c $(FUZZ_SRCS_kboot) tests/unit/kimg_mock.c
# fw_cfg and the ATA PIO channel driven by guest port accesses (tests/fuzz/fuzz_legacy.c).
FUZZ_TARGETS += legacy
FUZZ_SRCS_legacy     := src/dev/fw_cfg.c src/dev/ata.c src/dev/ata_dev.c src/core/device.c \
			src/core/guest_mem.c src/backend/blk_file.c src/log.c
FUZZ_FLAGS += $(DECOMP_DEFS)
# OS-developer tooling (src/osdev): the GDB stub's packet layer and `ckvm test`'s matcher.
FUZZ_TARGETS += gdb expect
FUZZ_SRCS_gdb        := src/osdev/gdb_proto.c src/osdev/gdb_cmd.c
FUZZ_SRCS_expect     := src/osdev/expect.c
# The virtio devices' saved-state records (restore); seeds in tests/fuzz/seeds/devstate/.
FUZZ_TARGETS += devstate
FUZZ_SRCS_devstate   := $(FUZZ_SRCS_pci) src/virtio/virtio_blk.c src/virtio/virtio_blk_life.c \
			src/backend/blk_file.c $(FUZZ_SRCS_sandbox) src/virtio/virtio_net.c \
			src/virtio/virtio_net_life.c
# vhost-user replies from an untrusted back-end (tests/fuzz/fuzz_vhost_user.c, seeds in seeds/vhost_user/).
FUZZ_TARGETS += vhost_user
FUZZ_SRCS_vhost_user := src/virtio/vhost_user.c src/virtio/vhost_user_msg.c src/core/guest_mem.c src/log.c
# The snapshot state file's parser and the x86 state checks (seeds: tests/fuzz/seeds/snapshot/).
FUZZ_TARGETS += snapshot
FUZZ_SRCS_snapshot   := src/core/snapshot_fmt.c src/arch/x86/cpu_state.c src/log.c
# The live-migration stream receiver (seeds: tests/fuzz/seeds/migrate/).
FUZZ_TARGETS += migrate
FUZZ_SRCS_migrate    := src/core/migrate_stream.c src/core/snapshot_fmt.c src/core/guest_mem.c src/log.c
# virtio-vsock's packet path (hostile headers, credit, host sockets); seeds: tests/fuzz/seeds/vsock/.
FUZZ_TARGETS += vsock
FUZZ_SRCS_vsock      := $(FUZZ_SRCS_virtq) src/virtio/virtio_vsock.c src/virtio/vsock_pkt.c \
			src/virtio/vsock_host.c src/core/evloop.c tests/unit/vq_mock.c
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

define FUZZ_RULE
$(FUZZ_DIR)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(FUZZ_SRCS_$(1)) $(wildcard tests/fuzz/*.h)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_FLAGS) -o $$@ $$(filter %.c,$$^) $$(LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

$(FUZZ_DIR)/gen_seeds: tests/fuzz/gen_seeds.c tests/fuzz/gen_seeds_ops.c tests/unit/vq_mock.c \
		       $(FUZZ_SRCS_virtq) $(wildcard tests/fuzz/*.h) tests/unit/vq_mock.h \
		       tests/unit/kimg_mock.c tests/unit/kimg_mock.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit -Itests/fuzz $(CFLAGS) $(WARN) -o $@ $(filter %.c,$^) $(LDLIBS)

fuzz: $(FUZZ_BINS) $(FUZZ_DIR)/gen_seeds

check-fuzz: fuzz
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_TIME) $(FUZZ_TARGETS)

# An hour per target (FUZZ_LONG_TIME), FUZZ_LONG_JOBS at once (default: as many as there are cores); corpora grow in place
# under $(FUZZ_DIR)/corpus_NAME, so a second run continues where the first stopped.
fuzz-long: fuzz
	FUZZ_JOBS=$(FUZZ_LONG_JOBS) tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_LONG_TIME) $(FUZZ_TARGETS)

.PHONY: fuzz check-fuzz fuzz-long
