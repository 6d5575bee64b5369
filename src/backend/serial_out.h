/* Serial output sink: takes the UART's transmitted bytes without ever blocking the caller (a vCPU
 * thread holding the UART lock), whatever the reader on the other end of the fd does.
 *   regular file / block device: written at once on the caller's thread (such writes end);
 *   pipe, FIFO, terminal, socket, other devices: a bounded ring drained by a writer thread with
 *   ordinary blocking writes. A full ring drops the byte and counts it; drops are logged
 *   (rate-limited) once output moves again, and their total once at the end. */
#ifndef CKVM_BACKEND_SERIAL_OUT_H
#define CKVM_BACKEND_SERIAL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_OUT_RING_BYTES	(256 * 1024)
#define SERIAL_OUT_FLUSH_MS	1000	/* what serial_out_destroy() gives a slow reader at exit */

struct serial_out;

/* A sink writing to fd. Starts the writer thread when fd needs one. With close_fd the sink owns fd
 * once created (closed when nothing writes to it any more; a writer left behind closes it itself),
 * otherwise fd is never closed. 0 or -errno (fd still the caller's). */
int serial_out_create(struct serial_out **out, int fd, bool close_fd);

/* Queue (or write) one byte, or len bytes (what does not fit is dropped). Any thread; never blocks
 * on the reader. */
void serial_out_put(struct serial_out *o, uint8_t c);
void serial_out_write(struct serial_out *o, const void *buf, size_t len);

/* Bytes lost so far: ring overflow, write errors. */
uint64_t serial_out_dropped(struct serial_out *o);

/* Give the writer at most flush_ms to empty the ring, then stop it; what is still queued is lost
 * (counted). Logs the total lost, if any, in one line. A writer stuck in write() past the deadline
 * is left behind (detached; it frees the sink, and closes an owned fd, if it ever returns), so this
 * returns in bounded time. Call once no producer is left. NULL is fine. */
void serial_out_destroy(struct serial_out *o, int flush_ms);

#endif
