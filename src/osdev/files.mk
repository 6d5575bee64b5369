SRCS += src/osdev/expect.c src/osdev/screen.c src/osdev/report.c src/osdev/gdb_proto.c src/osdev/gdb_cmd.c \
	src/osdev/gdb_stub.c src/osdev/gdb_stub_cmd.c src/osdev/gdb_stub_regs.c src/osdev/gdb_stub_mmu.c src/osdev/gdb_stub_spec.c
SRCS += src/osdev/test_mode.c
