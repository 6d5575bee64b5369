SRCS +=
SRCS += src/dev/pci.c src/dev/msix.c
SRCS += src/dev/acpi_pm.c
SRCS += src/dev/uart8250.c src/dev/i8042.c src/dev/cmos.c src/dev/test_exit.c
SRCS += src/dev/boot_timer.c src/dev/debugcon.c
SRCS += src/dev/fw_cfg.c src/dev/fw_cfg_loader.c src/dev/ata.c src/dev/ata_dev.c
SRCS += src/dev/port92.c src/dev/ata_pci.c
