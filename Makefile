# ckvm — one GNU Makefile. Source lists are explicit, one fragment per area (src/*/files.mk).
# Targets: all check check-unit check-guests check-cli check-api check-stop check-tsan check-linux
#          check-linux-cloud fuzz bench guest clean. SAN=1: ASan+UBSan; SAN=thread: ThreadSanitizer.
O        ?= build
CC       ?= cc
SAN      ?=
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
CPPFLAGS += -std=gnu11 -D_GNU_SOURCE -Isrc -MMD -MP
LDLIBS   += -lpthread -lhttp_parser -ljson-c -lseccomp
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
# -Wno-tsan: TSan cannot model atomic_thread_fence; ckvm's fences order accesses to guest memory
# against the guest's vCPUs, which TSan does not see anyway.
ifeq ($(SAN),thread)
CFLAGS   += -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
LDFLAGS  += -fsanitize=thread
endif

SRCS :=
include src/files.mk src/core/files.mk src/boot/files.mk src/arch/x86/files.mk src/dev/files.mk src/virtio/files.mk \
	src/backend/files.mk src/control/files.mk src/osdev/files.mk

LIB_OBJS := $(SRCS:%.c=$(O)/%.o)
MAIN_OBJ := $(O)/src/main.o

all: $(O)/ckvm

$(O)/ckvm: $(MAIN_OBJ) $(O)/libckvm.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/libckvm.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

include tests/unit/files.mk tests/guests/files.mk tests/cli/files.mk tests/stop/files.mk tests/fuzz/files.mk \
	tests/linux/files.mk tests/api/files.mk

check: check-unit check-fuzz check-guests check-cli check-testmode check-api check-stop check-tsan check-linux
	@echo "check: all tiers done"

clean:
	rm -rf $(O)

.PHONY: all check clean
-include $(shell find $(O) -name '*.d' 2>/dev/null)
