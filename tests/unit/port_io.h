/* Port accesses for unit tests of bus devices (UART, i8042, CMOS): byte in/out through a device's
 * bus_ops, and one step of the seeded random-access loops the hostile-input tests run. */
#ifndef CKVM_PORT_IO_H
#define CKVM_PORT_IO_H

#include <stdint.h>
#include <string.h>

#include "core/bus.h"

static inline uint8_t port_in8(const struct bus_ops *ops, void *dev, uint64_t off)
{
	uint8_t v = 0;

	ops->read(dev, off, &v, 1);
	return v;
}

static inline void port_out8(const struct bus_ops *ops, void *dev, uint64_t off, uint8_t v)
{
	ops->write(dev, off, &v, 1);
}

/* Advance the LCG in *seed and do a read or a write of 1..4 garbage bytes at an offset below nr_off;
 * data holds the bytes (read or written); returns the access length. */
static inline uint32_t port_random_access(const struct bus_ops *ops, void *dev, uint32_t *seed,
					  unsigned nr_off, uint8_t data[4])
{
	uint64_t off;
	uint32_t len;

	*seed = *seed * 1103515245u + 12345u;
	off = (*seed >> 8) % nr_off;
	len = 1 + (*seed >> 16) % 4;
	memcpy(data, seed, 4);
	if (*seed & 0x80000000u)
		ops->read(dev, off, data, len);
	else
		ops->write(dev, off, data, len);
	return len;
}

#endif
