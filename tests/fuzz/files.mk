# libFuzzer targets (clang, ASan+UBSan). `make fuzz` builds them; `make check-fuzz` generates seed
# corpora with gen_seeds (built by the normal compiler) and runs each target for FUZZ_TIME seconds.
# A target passes when it ran its time without a crash. Add a target: FUZZ_TARGETS += name,
# FUZZ_SRCS_name := sources, tests/fuzz/fuzz_name.c, optionally seeds in gen_seeds.c.
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 20
FUZZ_DIR     := $(O)/fuzz
FUZZ_FLAGS   := -std=gnu11 -D_GNU_SOURCE -Isrc -Itests/unit -Itests/fuzz -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(WARN)
FUZZ_TARGETS := virtq virtio_blk
FUZZ_SRCS_virtq      := src/virtio/virtq.c src/core/guest_mem.c src/log.c
FUZZ_SRCS_virtio_blk := $(FUZZ_SRCS_virtq) src/virtio/virtio_blk.c src/backend/blk_file.c
# Host-side bzImage decompression and loading; seeds from tests/unit/kimg_mock.c (gen_seeds kdecomp).
FUZZ_TARGETS += kdecomp
FUZZ_SRCS_kdecomp := src/boot/decompress.c src/arch/x86/bzimage.c src/arch/x86/bzimage_host.c \
	src/arch/x86/kaslr.c src/arch/x86/elf.c src/arch/x86/e820.c src/core/guest_mem.c src/log.c \
	tests/unit/kimg_mock.c
FUZZ_FLAGS += $(DECOMP_DEFS)
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

define FUZZ_RULE
$(FUZZ_DIR)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(FUZZ_SRCS_$(1)) $(wildcard tests/fuzz/*.h)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_FLAGS) -o $$@ $$(filter %.c,$$^) $$(LDLIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

$(FUZZ_DIR)/gen_seeds: tests/fuzz/gen_seeds.c tests/unit/vq_mock.c $(FUZZ_SRCS_virtq) \
		       tests/fuzz/fuzz_ring.h tests/unit/vq_mock.h tests/unit/kimg_mock.c tests/unit/kimg_mock.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit -Itests/fuzz $(CFLAGS) $(WARN) -o $@ $(filter %.c,$^) $(LDLIBS)

fuzz: $(FUZZ_BINS) $(FUZZ_DIR)/gen_seeds

check-fuzz: fuzz
	tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_TIME) $(FUZZ_TARGETS)

.PHONY: fuzz check-fuzz
