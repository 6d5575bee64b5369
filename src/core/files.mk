SRCS += src/core/guest_mem.c src/core/bus.c src/core/evloop.c
