# API tier (tests/api/run.sh, make check-api): the real binary with curl --unix-socket against tiny
# guests of its own (tick: prints dots forever; cad: waits for Ctrl+Alt+Del on the i8042) and the
# CLI tier's wait guest.
API_DIR := $(O)/tests/api

$(API_DIR)/%.elf: tests/api/%.S $(GUEST_DIR)/lib.o tests/guests/guest.h tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $< $(GUEST_DIR)/lib.o

api-guests: $(API_DIR)/tick.elf $(API_DIR)/cad.elf $(CLI_DIR)/wait.elf $(API_DIR)/count.elf $(API_DIR)/dirty.elf

check-api: api-guests $(O)/ckvm
	tests/api/run.sh $(O)/ckvm $(API_DIR) $(CLI_DIR)

.PHONY: api-guests check-api

# A libFuzzer target for the request path (HTTP framing + JSON + the route table), run by the fuzz
# tier like the others (tests/fuzz/run.sh; it starts from an empty corpus).
FUZZ_TARGETS += api
FUZZ_SRCS_api := src/control/http.c src/control/api_routes.c src/control/api_json.c src/control/api_balloon.c \
		 src/control/vmconf.c src/control/api_output.c src/config.c src/config_sub.c \
		 src/config_check.c src/config_vdevs.c src/config_print.c src/log.c src/backend/outfile.c src/backend/tap.c $(FUZZ_SRCS_sandbox) \
		 src/osdev/gdb_stub_spec.c src/core/guest_mem.c
FUZZ_SRCS_api += src/control/api_snapshot.c
FUZZ_SRCS_api += src/control/api_migrate.c
FUZZ_SRCS_api += src/control/vmconf_vdevs.c

$(FUZZ_DIR)/fuzz_api: tests/api/fuzz_api.c $(FUZZ_SRCS_api) src/control/api_int.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)
fuzz: $(FUZZ_DIR)/fuzz_api	# (fuzz's own prerequisite list was read before this file)

# Seeds: whole request sequences (the first byte picks pre-/post-boot and the read size).
$(FUZZ_DIR)/corpus_api/.seeded: $(wildcard tests/api/fuzz-seeds/*)
	@mkdir -p $(dir $@)
	cp tests/api/fuzz-seeds/* $(dir $@)
	touch $@
fuzz: $(FUZZ_DIR)/corpus_api/.seeded

# bench/snapshot.sh's QEMU side: the count guest behind the PVH shim QEMU can boot with -kernel.
$(API_DIR)/count-qemu.elf: tests/api/count.S $(GUEST_DIR)/lib.o $(GUEST_DIR)/pvh64.o tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $< $(GUEST_DIR)/lib.o \
		$(GUEST_DIR)/pvh64.o

# blkwrite (tests/api/migrate.sh's --migrate-disks guest): a C guest on the guests tier's crt64.
$(API_DIR)/blkwrite.elf: tests/api/blkwrite.c tests/guests/cguest.h $(GUEST_DIR)/crt64.o tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -Itests/guests -c -o $(API_DIR)/blkwrite.o $<
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $(GUEST_DIR)/crt64.o \
		$(API_DIR)/blkwrite.o
api-guests: $(API_DIR)/blkwrite.elf
# bench/migrate.sh's QEMU side for the dirty guest, as count-qemu.elf above
$(API_DIR)/dirty-qemu.elf: tests/api/dirty.S $(GUEST_DIR)/lib.o $(GUEST_DIR)/pvh64.o tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $< $(GUEST_DIR)/lib.o \
		$(GUEST_DIR)/pvh64.o

# pcilist (the --config-file case with balloon, vsock and entropy): lists PCI bus 0 on COM1.
$(API_DIR)/pcilist.elf: tests/api/pcilist.c tests/guests/cguest.h $(GUEST_DIR)/crt64.o tests/guests/guest.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -Itests/guests -c -o $(API_DIR)/pcilist.o $<
	$(GUEST_CC) $(GUEST_FLAGS) $(GUEST_LDFLAGS) -Wl,-T,tests/guests/guest.ld -o $@ $(GUEST_DIR)/crt64.o \
		$(API_DIR)/pcilist.o
api-guests: $(API_DIR)/pcilist.elf
