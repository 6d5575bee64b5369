/* MC146818-style RTC and 128 bytes of CMOS RAM behind index port 0x70 / data port 0x71, with the
 * memory-size bytes SeaBIOS and QEMU-aware guests read. The clock is the host's (UTC) plus an offset
 * the guest may set; the RTC raises no interrupts (periodic/alarm/update IRQ 8 are not modelled). */
#ifndef CKVM_DEV_CMOS_H
#define CKVM_DEV_CMOS_H

#include <stdint.h>
#include <time.h>

#include "core/bus.h"
#include "core/device.h"

#define CMOS_NR_PORTS	2	/* bus_add(bus, PORT_CMOS, CMOS_NR_PORTS, &cmos_bus_ops, cmos, "cmos") */

#define CMOS_BOOT_FLOPPY	1
#define CMOS_BOOT_DISK		2
#define CMOS_BOOT_CDROM		3

struct cmos;

struct cmos_config {
	uint64_t ram_below_4g;	/* bytes of RAM from 0 up to the 32-bit hole */
	uint64_t ram_above_4g;	/* bytes of RAM from 4 GiB up */
	unsigned nr_cpus;	/* stored as count - 1 at 0x5f (SeaBIOS); 0 leaves the byte zero */
	/* Boot devices in order, one per nibble from the lowest (CMOS_BOOT_*): written to 0x3d (first,
	 * second) and 0x38 bits 4-7 (third), where SeaBIOS looks when fw_cfg has no "bootorder". */
	unsigned boot_order;
	time_t (*now)(void);	/* clock source; NULL = time(NULL). Injected by unit tests. */
};

/* 0 or -errno. */
int cmos_create(struct cmos **out, const struct cmos_config *cfg);
void cmos_destroy(struct cmos *c);
/* Its lifecycle (device.h), kind "cmos", name "cmos": save/restore of the RAM, the index and the
 * guest's clock offset from host UTC (so the guest's clock runs on across a restore); a reset keeps
 * the battery-backed RAM and clock. The destroy op is cmos_destroy. */
struct device *cmos_device(struct cmos *c);

/* Registers: 0x00-0x09 time/date (BCD unless register B's DM bit is set; 24-hour unless its 24/12
 * bit is cleared), 0x0a A (UIP always reads 0, so polling never waits), 0x0b B (default 0x02),
 * 0x0c C (reads 0: no interrupt flags), 0x0d D (0x80, valid RAM), 0x32 century.
 * Guest writes to the time/date registers are kept: the difference to the host clock becomes an
 * offset applied to later reads (immediately, or when B's SET bit is cleared after a SET update).
 * Memory: 0x15/0x16 base KiB (640), 0x17/0x18 and 0x30/0x31 KiB above 1 MiB (max 65535),
 * 0x34/0x35 64 KiB units above 16 MiB below 4 GiB (max 0xffff), 0x5b-0x5d 64 KiB units above 4 GiB,
 * checksum of 0x10-0x2d at 0x2e/0x2f; boot devices at 0x3d and 0x38 (cmos_config.boot_order). Bit 7 of the index (NMI disable) is ignored. */
extern const struct bus_ops cmos_bus_ops;

#endif
