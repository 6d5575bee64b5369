/* Boot timer (like Firecracker's boot-timer device): the guest signals "boot complete" by writing the
 * byte BOOT_TIMER_MAGIC (123) at offset 0 of an MMIO page or to an I/O port, and ckvm logs the time
 * since its own exec. The board places it (src/arch/x86/layout.h) with --boot-timer. */
#ifndef CKVM_DEV_BOOT_TIMER_H
#define CKVM_DEV_BOOT_TIMER_H

#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"

#define BOOT_TIMER_MAGIC	123	/* 0x7b, Firecracker's MAGIC_VALUE_SIGNAL_GUEST_BOOT_COMPLETE */
#define BOOT_TIMER_MMIO_LEN	0x1000	/* bus_add(mmio, LAYOUT_BOOT_TIMER_GPA, BOOT_TIMER_MMIO_LEN, ...) */
#define BOOT_TIMER_NR_PORTS	1	/* bus_add(pio, PORT_BOOT_TIMER, BOOT_TIMER_NR_PORTS, ...) */

struct boot_timer;

struct boot_timer_config {
	uint64_t (*now_ns)(void);	/* ns since exec; NULL = log_since_exec_ns. Injected by tests. */
	uint64_t (*cpu_ns)(void);	/* ckvm's CPU time in ns; NULL = CLOCK_PROCESS_CPUTIME_ID */
};

/* 0 or -ENOMEM. */
int boot_timer_create(struct boot_timer **out, const struct boot_timer_config *cfg);
void boot_timer_destroy(struct boot_timer *bt);
/* Its lifecycle (device.h), kind "boot-timer", name "boot-timer"; the destroy op is boot_timer_destroy. */
struct device *boot_timer_device(struct boot_timer *bt);

/* A 1-byte write of BOOT_TIMER_MAGIC at offset 0 logs one info line (at most 10 a second):
 *   "ckvm: boot-timer: info: guest boot time 1234.567 ms since exec (ckvm CPU 12.345 ms; MMIO, signal 1)"
 * Every other write is ignored; reads return zeros. Safe from any number of vCPU threads. */
extern const struct bus_ops boot_timer_mmio_ops;
extern const struct bus_ops boot_timer_pio_ops;

/* How many times the guest signalled, and the time since exec (ns) of the first signal (0: none). */
unsigned boot_timer_signals(const struct boot_timer *bt);
uint64_t boot_timer_first_ns(const struct boot_timer *bt);

#endif
