SRCS +=
SRCS += src/arch/x86/bzimage.c src/arch/x86/bzimage_host.c src/arch/x86/kaslr.c src/arch/x86/elf.c src/arch/x86/raw.c src/arch/x86/e820.c
SRCS += src/arch/x86/acpi.c src/arch/x86/acpi_fwcfg.c src/arch/x86/aml.c src/arch/x86/mptable.c src/arch/x86/cpuid.c
SRCS += src/arch/x86/cpu.c src/arch/x86/quirks.c src/arch/x86/board.c src/arch/x86/board_devices.c src/arch/x86/board_virtio.c src/arch/x86/board_api.c
SRCS += src/arch/x86/board_fw.c
# Snapshot/restore (issue 10): vCPU/VM state and the board's snapshot files.
SRCS += src/arch/x86/cpu_state.c src/arch/x86/board_snapshot.c
# Live migration (issue 10 item 3).
SRCS += src/arch/x86/board_migrate.c
SRCS += src/arch/x86/board_vdevs.c
