SRCS += src/log.c src/config.c
