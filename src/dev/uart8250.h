/* 16550A UART (8 I/O ports, one interrupt line), as the Linux 8250 driver probes and uses it.
 * Guest side: uart_bus_ops on the port bus. Host side: transmitted bytes go to the tx callback,
 * received bytes come in through uart_rx_push(); rx_ready tells the producer when the guest has made
 * room again. */
#ifndef CKVM_DEV_UART8250_H
#define CKVM_DEV_UART8250_H

#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/vmm_ops.h"

#define UART_NR_PORTS	8	/* register window length on the port bus */
#define UART_FIFO_LEN	16	/* receive FIFO depth (16550A) */

struct uart;

struct uart_config {
	const char *name;		/* on the board's device registry; NULL = "com1" */
	const struct vmm_ops *vmm;	/* irq_line() is driven on level changes only */
	uint32_t gsi;			/* ISA IRQ, 4 for COM1 */
	/* Each transmitted byte, called on a vCPU thread with the UART lock held; NULL discards them.
	 * Must not block (a stalled reader must never stall the guest or a stop): buffer or drop. */
	void (*tx)(void *arg, uint8_t c);
	void *tx_arg;
	/* Called (from a vCPU thread, without the UART lock held) when an earlier uart_rx_push() could
	 * not take everything and the guest has since drained the FIFO to half full or less, or left
	 * loopback mode. Optional. Must not block; writing an eventfd is the intended use. */
	void (*rx_ready)(void *arg);
	void *rx_ready_arg;
};

/* 0 or -errno. */
int uart_create(struct uart **out, const struct uart_config *cfg);
void uart_destroy(struct uart *u);
/* Its lifecycle (device.h), kind "uart": reset, save/restore of the registers and the receive FIFO;
 * the destroy op is uart_destroy. No pause: the UART does nothing between guest accesses. */
struct device *uart_device(struct uart *u);

/* Register window: bus_add(bus, PORT_COM1, UART_NR_PORTS, &uart_bus_ops, uart, "com1").
 * Any access width is accepted; a wide access touches consecutive registers like an ISA bus would. */
extern const struct bus_ops uart_bus_ops;

/* Feed host input to the receiver. Returns how many bytes the FIFO accepted (0..len); nothing is
 * ever dropped here: what is refused must be offered again after rx_ready fires. Any thread. */
size_t uart_rx_push(struct uart *u, const uint8_t *buf, size_t len);

#endif
