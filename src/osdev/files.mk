SRCS += src/osdev/expect.c src/osdev/screen.c src/osdev/report.c src/osdev/gdb_proto.c src/osdev/gdb_cmd.c
SRCS += src/osdev/test_mode.c
