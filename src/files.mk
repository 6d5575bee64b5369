SRCS += src/log.c src/config.c src/config_sub.c src/config_check.c
SRCS += src/config_vdevs.c src/config_print.c
