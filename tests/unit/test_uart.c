/* Unit tests for the 16550A model: registers, Linux's autoconfig probe, FIFO/IIR priorities,
 * loopback, overflow, interrupt line edges through a fake vmm_ops, flow control, hostile accesses. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "core/bus.h"
#include "dev/uart8250.h"
#include "fake_vmm.h"
#include "port_io.h"
#include "test.h"

enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static struct fake_vmm fk;
static struct vmm_ops fake_ops;
static int ready_calls;
static char tx_seen[64];	/* what the transmitter handed to its tx callback */
static size_t tx_len;

static void fake_ready(void *arg)
{
	(*(int *)arg)++;
}

static void fake_tx(void *arg, uint8_t c)
{
	(void)arg;
	if (tx_len < sizeof(tx_seen) - 1)
		tx_seen[tx_len++] = (char)c;
}

/* A UART whose transmitter feeds tx_seen (with_tx) or has no tx callback (bytes discarded). */
static struct uart *mk(int with_tx)
{
	struct uart *u = NULL;
	struct uart_config cfg = { .vmm = &fake_ops, .gsi = 4, .tx = with_tx >= 0 ? fake_tx : NULL,
				   .rx_ready = fake_ready, .rx_ready_arg = &ready_calls };

	fake_vmm_init(&fk, &fake_ops);
	ready_calls = 0;
	memset(tx_seen, 0, sizeof(tx_seen));
	tx_len = 0;
	CHECK_EQ(uart_create(&u, &cfg), 0);
	return u;
}

static uint8_t in8(struct uart *u, unsigned off)
{
	return port_in8(&uart_bus_ops, u, off);
}

static void out8(struct uart *u, unsigned off, uint8_t v)
{
	port_out8(&uart_bus_ops, u, off, v);
}

static void test_reset_state(void)
{
	struct uart *u = mk(-1);

	CHECK_EQ(in8(u, LSR), 0x60);	/* THRE | TEMT */
	CHECK_EQ(in8(u, IIR), 0x01);
	CHECK_EQ(in8(u, MSR), 0xb0);	/* DCD DSR CTS, no deltas */
	CHECK_EQ(in8(u, IER), 0);
	CHECK_EQ(in8(u, LCR), 0x03);
	CHECK_EQ(in8(u, RBR), 0);	/* empty receiver */
	CHECK_EQ(fk.line_changes, 0);
	uart_destroy(u);
}

static void test_dlab_and_scratch(void)
{
	struct uart *u = mk(-1);

	out8(u, IER, 0x05);
	out8(u, LCR, 0x83);
	out8(u, 0, 0x01);
	out8(u, 1, 0x02);
	CHECK_EQ(in8(u, 0), 0x01);
	CHECK_EQ(in8(u, 1), 0x02);
	out8(u, LCR, 0x03);
	CHECK_EQ(in8(u, IER), 0x05);	/* divisor writes did not touch IER */
	CHECK_EQ(in8(u, LSR) & 0x01, 0);	/* nor the receiver/transmitter */
	out8(u, LCR, 0x83);
	CHECK_EQ(in8(u, 0), 0x01);
	CHECK_EQ(in8(u, 1), 0x02);
	out8(u, LCR, 0x03);
	out8(u, SCR, 0x5a);
	CHECK_EQ(in8(u, SCR), 0x5a);
	out8(u, SCR, 0xa5);
	CHECK_EQ(in8(u, SCR), 0xa5);
	uart_destroy(u);
}

/* The sequence Linux's autoconfig() and autoconfig_16550a() run, with the answers a 16550A gives. */
static void test_linux_autoconfig(void)
{
	struct uart *u = mk(-1);
	uint8_t s1, s2;

	out8(u, IER, 0);
	CHECK_EQ(in8(u, IER) & 0x0f, 0);
	out8(u, IER, 0x0f);
	CHECK_EQ(in8(u, IER) & 0x0f, 0x0f);
	out8(u, IER, 0);
	out8(u, MCR, 0x10 | 0x0a);			/* loop | OUT2 | RTS */
	CHECK_EQ(in8(u, MSR) & 0xf0, 0x90);		/* DCD | CTS */
	out8(u, MCR, 0);
	out8(u, LCR, 0xbf);
	out8(u, FCR, 0);				/* EFR on 16650s */
	out8(u, LCR, 0);
	out8(u, FCR, 0x01);
	CHECK_EQ(in8(u, IIR) >> 6, 3);			/* 16550A FIFO bits */
	out8(u, LCR, 0xbf);
	CHECK(in8(u, IIR) != 0);			/* no EFR: not a 16650 */
	out8(u, LCR, 0);
	s1 = in8(u, MCR);
	out8(u, LCR, 0xe0);
	s2 = in8(u, IIR);
	CHECK_EQ((s1 ^ s2) & 0x10, 0);			/* not a NatSemi SuperIO */
	out8(u, LCR, 0);
	out8(u, FCR, 0x21);				/* 64-byte FIFO request */
	CHECK_EQ(in8(u, IIR) & 0xe0, 0xc0);
	out8(u, LCR, 0x80);
	out8(u, FCR, 0x21);
	CHECK_EQ(in8(u, IIR) & 0xe0, 0xc0);		/* not a 16750 */
	out8(u, LCR, 0);
	out8(u, IER, 0x40);
	CHECK_EQ(in8(u, IER) & 0x40, 0);		/* not an XScale */
	CHECK(in8(u, LSR) != 0xff);
	/* THRE test and TXEN test of serial8250_do_startup() */
	out8(u, IER, 0x02);
	CHECK_EQ(in8(u, IIR) & 0x0f, 0x02);
	out8(u, IER, 0);
	out8(u, IER, 0x02);
	CHECK_EQ(in8(u, IIR) & 0x0f, 0x02);		/* re-asserted: no UART_BUG_THRE */
	CHECK_EQ(in8(u, IIR) & 0x0f, 0x01);		/* reading IIR cleared it */
	uart_destroy(u);
}

static void test_tx(void)
{
	struct uart *u = mk(1);

	out8(u, 0, 'h');
	out8(u, 0, 'i');
	CHECK_EQ(in8(u, LSR) & 0x60, 0x60);	/* THRE and TEMT at once: the byte left */
	CHECK_EQ(tx_len, 2);
	CHECK_STR(tx_seen, "hi");
	/* a 2-byte write at THR writes THR then IER, like an ISA bus splits it */
	uart_bus_ops.write(u, 0, "Z\x00", 2);
	CHECK_EQ(tx_len, 3);
	CHECK_EQ(tx_seen[2], 'Z');
	/* loopback: nothing leaves the chip */
	out8(u, MCR, 0x10);
	out8(u, 0, 'q');
	CHECK_EQ(tx_len, 3);
	uart_destroy(u);
	/* no tx callback: bytes vanish, the transmitter still empties */
	u = mk(-1);
	out8(u, 0, 'x');
	CHECK_EQ(tx_len, 0);
	CHECK_EQ(in8(u, LSR) & 0x60, 0x60);
	uart_destroy(u);
}

static void test_loopback(void)
{
	struct uart *u = mk(-1);

	out8(u, MCR, 0x10);
	CHECK_EQ(in8(u, MSR), 0x0b);		/* CTS/DSR/DCD dropped: deltas, no status */
	CHECK_EQ(in8(u, MSR), 0x00);		/* deltas clear on read */
	out8(u, MCR, 0x10 | 0x01);		/* DTR -> DSR */
	CHECK_EQ(in8(u, MSR), 0x22);
	out8(u, MCR, 0x10 | 0x04);		/* OUT1 -> RI, DSR drops */
	CHECK_EQ(in8(u, MSR), 0x42);
	out8(u, MCR, 0x10);			/* RI trailing edge */
	CHECK_EQ(in8(u, MSR), 0x04);
	out8(u, MCR, 0x10 | 0x02 | 0x08);	/* RTS -> CTS, OUT2 -> DCD */
	CHECK_EQ(in8(u, MSR), 0x99);
	out8(u, IER, 0x01);
	out8(u, 0, 'A');
	CHECK_EQ(fk.line_changes, 0);		/* OUT2 gates nothing in loopback: the pin is forced off */
	CHECK_EQ(in8(u, LSR), 0x61);
	CHECK_EQ(in8(u, RBR), 'A');
	CHECK_EQ(in8(u, LSR), 0x60);
	CHECK_EQ(uart_rx_push(u, (const uint8_t *)"x", 1), 0);	/* input disconnected */
	out8(u, MCR, 0);
	CHECK_EQ(ready_calls, 1);			/* leaving loopback re-offers held input */
	CHECK_EQ(in8(u, MSR), 0xb0 | 0x02);	/* only DSR changed */
	CHECK_EQ(fk.line_changes, 0);
	uart_destroy(u);
}

static void test_overflow(void)
{
	struct uart *u = mk(-1);

	out8(u, MCR, 0x10);
	out8(u, 0, '1');
	out8(u, 0, '2');			/* 16450 mode: one byte holding register */
	CHECK_EQ(in8(u, LSR), 0x63);
	CHECK_EQ(in8(u, LSR), 0x61);		/* OE clears on read */
	CHECK_EQ(in8(u, RBR), '1');
	out8(u, FCR, 0x07);
	for (int i = 0; i < 17; i++)
		out8(u, 0, (uint8_t)('a' + i));
	CHECK_EQ(in8(u, LSR) & 0x03, 0x03);
	for (int i = 0; i < 16; i++)
		CHECK_EQ(in8(u, RBR), 'a' + i);
	CHECK_EQ(in8(u, LSR), 0x60);
	out8(u, 0, 'z');
	out8(u, FCR, 0x03);			/* clear receive FIFO */
	CHECK_EQ(in8(u, LSR) & 0x01, 0);
	out8(u, 0, 'y');
	out8(u, FCR, 0x00);			/* disabling FIFOs empties them too */
	CHECK_EQ(in8(u, LSR) & 0x01, 0);
	CHECK_EQ(in8(u, IIR) & 0xc0, 0);
	uart_destroy(u);
}

static void test_iir_priority(void)
{
	struct uart *u = mk(-1);

	out8(u, FCR, 0x01);			/* FIFO on, trigger 1 */
	out8(u, MCR, 0x10 | 0x02);		/* loopback: CTS changes -> modem status deltas */
	out8(u, IER, 0x0f);			/* THRE latched on enable */
	for (int i = 0; i < 17; i++)
		out8(u, 0, (uint8_t)i);		/* 16 in the FIFO, one overrun */
	CHECK_EQ(in8(u, IIR), 0xc6);		/* line status first */
	CHECK_EQ(in8(u, IIR), 0xc6);		/* and it stays until LSR is read */
	in8(u, LSR);
	CHECK_EQ(in8(u, IIR), 0xc4);		/* received data */
	for (int i = 0; i < 16; i++)
		in8(u, RBR);
	CHECK_EQ(in8(u, IIR), 0xc2);		/* THR empty, cleared by this read */
	CHECK_EQ(in8(u, IIR), 0xc0);		/* modem status */
	in8(u, MSR);
	CHECK_EQ(in8(u, IIR), 0xc1);
	/* trigger level 14: fewer bytes report a character timeout */
	out8(u, FCR, 0xc1);
	for (int i = 0; i < 13; i++)
		out8(u, 0, (uint8_t)i);
	CHECK_EQ(in8(u, IIR), 0xcc);
	out8(u, 0, 13);
	CHECK_EQ(in8(u, IIR), 0xc4);
	in8(u, RBR);
	CHECK_EQ(in8(u, IIR), 0xcc);
	/* disabled sources never show */
	out8(u, IER, 0);
	CHECK_EQ(in8(u, IIR), 0xc1);
	uart_destroy(u);
}

static void test_irq_edges(void)
{
	struct uart *u = mk(-1);

	out8(u, IER, 0x01);
	CHECK_EQ(uart_rx_push(u, (const uint8_t *)"a", 1), 1);
	CHECK_EQ(fk.line_changes, 0);		/* OUT2 low: the line is gated */
	out8(u, MCR, 0x08);
	CHECK_EQ(fk.line_changes, 1);
	CHECK_EQ(fk.last_level, 1);
	CHECK_EQ(fk.last_gsi, 4);
	in8(u, IIR);
	in8(u, LSR);
	CHECK_EQ(fk.line_changes, 1);		/* only changes are driven */
	CHECK_EQ(in8(u, RBR), 'a');
	CHECK_EQ(fk.line_changes, 2);
	CHECK_EQ(fk.last_level, 0);
	out8(u, IER, 0x03);			/* THRE raises at once */
	CHECK_EQ(fk.last_level, 1);
	CHECK_EQ(in8(u, IIR), 0x02);
	CHECK_EQ(fk.last_level, 0);
	out8(u, 0, 'x');			/* each transmitted byte re-raises THRE */
	CHECK_EQ(fk.last_level, 1);
	out8(u, MCR, 0x00);			/* OUT2 off lowers the line */
	CHECK_EQ(fk.last_level, 0);
	CHECK_EQ(fk.line_changes, 6);
	uart_destroy(u);
}

static void test_flow_control(void)
{
	struct uart *u = mk(-1);
	uint8_t buf[32];

	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	CHECK_EQ(uart_rx_push(u, buf, 3), 1);	/* no FIFO yet */
	CHECK_EQ(ready_calls, 0);
	CHECK_EQ(in8(u, RBR), 0);
	CHECK_EQ(ready_calls, 1);
	CHECK_EQ(in8(u, RBR), 0);		/* empty read: no second notification */
	CHECK_EQ(ready_calls, 1);
	out8(u, FCR, 0x01);
	CHECK_EQ(uart_rx_push(u, buf, 32), 16);
	CHECK_EQ(uart_rx_push(u, buf, 0), 0);
	for (int i = 0; i < 7; i++)
		CHECK_EQ(in8(u, RBR), i);
	CHECK_EQ(ready_calls, 1);			/* 9 left: above half */
	in8(u, RBR);
	CHECK_EQ(ready_calls, 2);
	CHECK_EQ(uart_rx_push(u, buf + 16, 16), 8);
	for (int i = 8; i < 16; i++)
		CHECK_EQ(in8(u, RBR), i);
	for (int i = 16; i < 24; i++)
		CHECK_EQ(in8(u, RBR), i);
	CHECK_EQ(in8(u, LSR) & 1, 0);
	CHECK_EQ(ready_calls, 3);
	uart_destroy(u);
}

static void test_bus_and_hostile(void)
{
	struct uart *u = mk(-1);
	struct bus b;
	uint32_t v = 0;
	uint64_t big = 0;
	uint32_t seed = 12345;

	bus_init(&b, "pio");
	CHECK_EQ(bus_add(&b, 0x3f8, UART_NR_PORTS, &uart_bus_ops, u, "com1"), 0);
	CHECK_EQ(bus_read(&b, 0x3fd, &v, 1), 0);
	CHECK_EQ(v, 0x60);
	CHECK_EQ(bus_read(&b, 0x3fd, &v, 4), -ENOENT);	/* crosses the end of the window */
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(bus_read(&b, 0x3fc, &v, 4), 0);	/* MCR LSR MSR SCR */
	CHECK_EQ(v & 0xffff00, 0xb06000);
	/* offsets beyond the window, straight to the device */
	uart_bus_ops.read(u, 6, &big, 8);
	CHECK_EQ(big >> 16, 0xffffffffffffULL);
	uart_bus_ops.write(u, 100, &big, 8);
	uart_bus_ops.read(u, ~0ULL, &v, 4);
	CHECK_EQ(v, 0xffffffff);
	/* random garbage at random offsets and widths */
	for (int i = 0; i < 200000; i++) {
		uint8_t data[4];
		uint32_t len = port_random_access(&uart_bus_ops, u, &seed, 10, data);

		if (i % 1000 == 0)
			uart_rx_push(u, data, len);
	}
	CHECK(fk.last_level == 0 || fk.last_level == 1);
	/* still a working UART after a clean set-up */
	out8(u, LCR, 0x03);
	out8(u, MCR, 0x10);
	out8(u, FCR, 0x07);
	in8(u, LSR);
	out8(u, 0, 'k');
	CHECK_EQ(in8(u, LSR), 0x61);
	CHECK_EQ(in8(u, RBR), 'k');
	bus_free(&b);
	uart_destroy(u);
}

int main(void)
{
	RUN(test_reset_state);
	RUN(test_dlab_and_scratch);
	RUN(test_linux_autoconfig);
	RUN(test_tx);
	RUN(test_loopback);
	RUN(test_overflow);
	RUN(test_iir_priority);
	RUN(test_irq_edges);
	RUN(test_flow_control);
	RUN(test_bus_and_hostile);
	return test_summary();
}
