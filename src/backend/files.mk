SRCS +=
SRCS += src/backend/blk_file.c
SRCS += src/backend/tap.c
SRCS += src/backend/console.c src/backend/serial_out.c
SRCS += src/backend/outfile.c
