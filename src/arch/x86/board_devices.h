/* The board's device list and firmware tables (board_devices.c, board_virtio.c), used by board.c and
 * board_api.c. */
#ifndef CKVM_X86_BOARD_DEVICES_H
#define CKVM_X86_BOARD_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct board;
struct kvm_cpuid2;

/* Create every device, register it on its bus and, when it has a lifecycle, in b->devs. 0 or -errno
 * after one logged line (b->bad_input set when the user's input was at fault). */
int board_devices_create(struct board *b);
/* ACPI (unless --no-acpi) and the MP table; *rsdp_gpa = 0 without ACPI. 0 or -errno (logged). */
int board_firmware_tables(struct board *b, uint64_t *rsdp_gpa);
/* CPUID of vCPU id from KVM's supported table and the configuration. */
int board_cpuid(struct board *b, const struct kvm_cpuid2 *supported, unsigned id,
		struct kvm_cpuid2 *out);
/* Port range [port, port+len) to dev on the board's PIO bus; 0 or -errno after one logged line. */
struct bus_ops;
struct device;
int board_pio_add(struct board *b, uint64_t port, uint64_t len, const struct bus_ops *ops, void *dev,
		  const char *name);
/* d joins the registry (b->devs), which owns it from here; 0 or -errno after one logged line. */
int board_own(struct board *b, struct device *d);
/* Hook devices to the event loop before the I/O thread starts. */
void board_devices_start(struct board *b);
/* vCPUs are stopped: stop every registered device (devreg_stop: disk workers finish or are
 * abandoned) before the I/O thread goes, waiting for in-flight requests until deadline_ns
 * (vm_clock_ns). false if some were abandoned (one line each says so): their workers are still
 * inside a back-end and the devices must not be destroyed. */
bool board_devices_quiesce(struct board *b, int64_t deadline_ns);
/* Destroy the registry (last first), then the typed devices. */
void board_devices_destroy(struct board *b);

/* board_virtio.c: virtio-blk disks and virtio-net NICs on the PCI bus, registered in b->devs. */
int board_virtio_create(struct board *b);
/* PATCH /drives: drive idx (the VM's disk order) gets path as its backing file; the guest is told
 * the new capacity. 0, or -errno with a one-line reason in err (the old file keeps serving). */
int board_drive_swap(struct board *b, int idx, const char *path, char *err, size_t errlen);

#endif
