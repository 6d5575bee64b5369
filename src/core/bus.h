/* An address-space bus (port I/O or MMIO): sorted, non-overlapping ranges, each owned by one device.
 * Devices see offsets relative to their base. Unclaimed reads return all-ones, unclaimed writes vanish. */
#ifndef CKVM_BUS_H
#define CKVM_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	void (*read)(void *dev, uint64_t off, void *data, uint32_t len);
	void (*write)(void *dev, uint64_t off, const void *data, uint32_t len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *dev;
	const char *name;
};

struct bus {
	const char *name;
	struct bus_range *r;
	int nr, cap;
	bool frozen;
	unsigned long gen;	/* new at every bus_init/bus_add/bus_free: older bus_caches are void */
};

/* One thread's memo of its last lookup on one bus (a vCPU keeps one per bus): a repeat of the last
 * range hit, or of the last unclaimed address, skips the search. Zero-initialised means empty. */
struct bus_cache {
	unsigned long gen;
	const struct bus_range *hit;
	uint64_t miss_addr;
	uint32_t miss_len;
};

void bus_init(struct bus *b, const char *name);
void bus_free(struct bus *b);
/* 0, -EEXIST on overlap, -EINVAL on empty/overflowing range, -EPERM once frozen, -ENOMEM. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops, void *dev,
	    const char *name);
/* After freezing the bus is read-only and safe to dispatch from many threads without locks. */
void bus_freeze(struct bus *b);
const struct bus_range *bus_find(const struct bus *b, uint64_t addr, uint32_t len);
/* 0 when a device took the access; -ENOENT when unclaimed (a read then yields all-ones). */
int bus_read(const struct bus *b, uint64_t addr, void *data, uint32_t len);
int bus_write(const struct bus *b, uint64_t addr, const void *data, uint32_t len);
/* bus_read (is_write false) or bus_write through the caller's cache c: the exit path. */
int bus_access(const struct bus *b, struct bus_cache *c, uint64_t addr, void *data, uint32_t len,
	       bool is_write);

#endif
