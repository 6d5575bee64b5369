/* Debug console (like QEMU's isa-debugcon / Bochs' port 0xe9 hack): bytes the guest writes to port
 * 0xe9 or 0x402 (SeaBIOS's debug port) go to a host file descriptor, optionally with a timestamp
 * per line; a read returns 0xe9 so guests can probe for it. Also the POST-code port 0x80 (post.c). */
#ifndef CKVM_DEV_DEBUGCON_H
#define CKVM_DEV_DEBUGCON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"

#define DEBUGCON_NR_PORTS	1	/* at each of PORT_DEBUGCON (0xe9) and PORT_DEBUGCON_SEABIOS (0x402) */
#define DEBUGCON_READBACK	0xe9
#define DEBUGCON_LINE_MAX	256	/* longer lines are written in pieces */

struct debugcon;

struct debugcon_config {
	int out_fd;			/* where the text goes (unless write is set) */
	bool own_fd;			/* close out_fd on destroy */
	/* If set, each piece of text goes here instead of out_fd: called on a vCPU thread with the
	 * console's lock held, must not block (the board hands it to a serial_out). */
	void (*write)(void *arg, const char *buf, size_t len);
	void *write_arg;
	bool timestamps;		/* prefix each line with "[+12.345 ms] " (time since ckvm's exec) */
	bool crlf;			/* "\n" -> "\r\n" (a terminal in raw mode) */
	uint64_t (*now_ns)(void);	/* NULL = log_since_exec_ns; injected by tests */
};

/* 0 or -ENOMEM. */
int debugcon_create(struct debugcon **out, const struct debugcon_config *cfg);
/* Writes out a partial last line, then frees (and closes out_fd if owned). */
void debugcon_destroy(struct debugcon *d);
/* Its lifecycle (device.h), kind "debugcon", name "debugcon"; the destroy op is debugcon_destroy. */
struct device *debugcon_device(struct debugcon *d);

/* Writes: the low byte of each access (wider accesses do not fit the 1-port range and never arrive).
 * Text is written a line at a time (at "\n" or DEBUGCON_LINE_MAX bytes); write errors drop output,
 * never stop the guest. Reads: DEBUGCON_READBACK in every byte. Safe from any vCPU thread. */
extern const struct bus_ops debugcon_bus_ops;

/* POST codes (port 0x80, debug level): logs "POST code 0xNN" with the time since exec when the value
 * changes, at most 10 lines a second: Linux writes this port for I/O delays. Stateless apart from the
 * last code; the board registers it only with --verbose, so it costs nothing otherwise. */
#define POST_NR_PORTS		1
struct post;
int post_create(struct post **out, uint64_t (*now_ns)(void));
void post_destroy(struct post *p);
/* The last code written, or -1 before any. */
int post_last_code(const struct post *p);
extern const struct bus_ops post_bus_ops;

#endif
