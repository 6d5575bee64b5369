/* Wide port accesses on ISA devices made of one-byte registers (8250, i8042, CMOS, ACPI PM1): an
 * access of len bytes at off becomes one register access per byte, in address order, like the ISA
 * bus splitting an inw/inl. Runs on the caller's thread, under the device's own lock. */
#ifndef CKVM_DEV_ISA_SPLIT_H
#define CKVM_DEV_ISA_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

/* Byte i of an access at off lies in a window of nr_regs registers; off near ~0 never wraps into it. */
static inline bool isa_split_inside(uint64_t off, uint32_t i, uint64_t nr_regs)
{
	return off < nr_regs && i < nr_regs - off;
}

/* Bytes outside the window read as all-ones (an undriven ISA bus). */
static inline void isa_split_read(uint64_t off, void *data, uint32_t len, uint64_t nr_regs,
				  uint8_t (*read_reg)(void *dev, unsigned reg), void *dev)
{
	uint8_t *p = data;

	for (uint32_t i = 0; i < len; i++)
		p[i] = isa_split_inside(off, i, nr_regs) ? read_reg(dev, (unsigned)(off + i)) : 0xff;
}

/* Bytes outside the window are dropped. */
static inline void isa_split_write(uint64_t off, const void *data, uint32_t len, uint64_t nr_regs,
				   void (*write_reg)(void *dev, unsigned reg, uint8_t v), void *dev)
{
	const uint8_t *p = data;

	for (uint32_t i = 0; i < len && isa_split_inside(off, i, nr_regs); i++)
		write_reg(dev, (unsigned)(off + i), p[i]);
}

#endif
