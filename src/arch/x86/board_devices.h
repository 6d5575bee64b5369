/* The board's device list and firmware tables (board_devices.c), used by board.c. */
#ifndef CKVM_X86_BOARD_DEVICES_H
#define CKVM_X86_BOARD_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

struct board;
struct kvm_cpuid2;

/* Create every device and register it on its bus. 0 or an exit status after one logged line. */
int board_devices_create(struct board *b);
/* ACPI (unless --no-acpi) and the MP table; *rsdp_gpa = 0 without ACPI. */
int board_firmware_tables(struct board *b, uint64_t *rsdp_gpa);
/* CPUID of vCPU id from KVM's supported table and the configuration. */
int board_cpuid(struct board *b, const struct kvm_cpuid2 *supported, unsigned id,
		struct kvm_cpuid2 *out);
/* Hook devices to the event loop before the I/O thread starts. */
void board_devices_start(struct board *b);
/* vCPUs are stopped: stop device workers (disk I/O) before the I/O thread goes, waiting for
 * in-flight requests until deadline_ns (vm_clock_ns). false if some were abandoned (one line each
 * says so): their workers are still inside a back-end and the devices must not be destroyed. */
bool board_devices_quiesce(struct board *b, int64_t deadline_ns);
void board_devices_destroy(struct board *b);

#endif

/* board_virtio.c: virtio-blk disks and virtio-net NICs on the PCI bus. */
int board_virtio_create(struct board *b);
uint32_t board_pci_slot_mask(const struct board *b);
bool board_virtio_quiesce(struct board *b, int64_t deadline_ns);
void board_virtio_destroy(struct board *b);
