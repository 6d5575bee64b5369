SRCS += src/core/guest_mem.c src/core/bus.c src/core/evloop.c src/core/vm.c src/core/vcpu.c src/core/vm_pause.c src/core/device.c \
	src/core/sandbox.c src/core/vcpu_debug.c
# The snapshot state format (CRC32 from zlib).
SRCS += src/core/snapshot_fmt.c src/core/snapshot_ram.c
# The live-migration stream.
SRCS += src/core/migrate_stream.c
LDLIBS += -lz
