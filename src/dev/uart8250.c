/* 16550A UART register model (National Semiconductor PC16550D datasheet: registers, FIFO control,
 * interrupt identification and priorities, loopback), enough for Linux's 8250 autoconfig and driver.
 * Runs on vCPU threads (port accesses) and the I/O thread (uart_rx_push); one mutex guards it all. */
#include "dev/uart8250.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dev/isa_split.h"
#include "log.h"

/* Register offsets (DLAB=1 maps DLL/DLM over RBR/THR and IER). */
enum {
	UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
	UART_IER = 1, UART_DLM = 1,
	UART_IIR = 2, UART_FCR = 2,
	UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* transmitter holding register empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */
#define IER_MASK	0x0f	/* bits 4-7 read as zero (Linux's XScale UUE probe relies on it) */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_CTI		0x0c	/* character timeout: data below the trigger level */
#define IIR_FIFO_ON	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RCVR	0x02
#define FCR_CLEAR_XMIT	0x04
#define FCR_STORED	0xc9	/* enable, DMA mode, trigger level */

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08	/* gates the interrupt output on PC boards */
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_PE		0x04
#define LSR_FE		0x08
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_ERRORS	(LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
#define MSR_DELTAS	0x0f

struct uart {
	pthread_mutex_t lock;
	const struct vmm_ops *vmm;
	uint32_t gsi;
	void (*tx)(void *arg, uint8_t c);
	void *tx_arg;
	void (*rx_ready)(void *arg);
	void *rx_ready_arg;

	uint8_t ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	bool thr_ipending;	/* THRE interrupt latched; cleared by an IIR read that reports it */
	uint8_t rx[UART_FIFO_LEN];
	unsigned rx_head, rx_count;
	bool rx_want;		/* a producer was refused; call rx_ready once room appears */
	int irq_level;
};

static const unsigned rx_trigger[4] = { 1, 4, 8, 14 };

static unsigned rx_capacity(const struct uart *u)
{
	return (u->fcr & FCR_ENABLE) ? UART_FIFO_LEN : 1;
}

/* Modem status inputs: wired to the MCR outputs in loopback, otherwise a present, ready peer. */
static uint8_t msr_inputs(const struct uart *u)
{
	uint8_t m = 0;

	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (u->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (u->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (u->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static void msr_update(struct uart *u)
{
	uint8_t now = msr_inputs(u), old = u->msr & ~MSR_DELTAS, d = u->msr & MSR_DELTAS;

	if ((now ^ old) & MSR_CTS)
		d |= MSR_DCTS;
	if ((now ^ old) & MSR_DSR)
		d |= MSR_DDSR;
	if ((now ^ old) & MSR_DCD)
		d |= MSR_DDCD;
	if ((old & MSR_RI) && !(now & MSR_RI))
		d |= MSR_TERI;	/* trailing edge of ring indicator */
	u->msr = now | d;
}

/* Interrupt identification by priority: line status > received data > THR empty > modem status. */
static uint8_t iir_compute(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0;

	if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRORS))
		return fifo | IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count) {
		/* The 4-character-time timeout is approximated as "already expired". */
		if ((u->fcr & FCR_ENABLE) && u->rx_count < rx_trigger[u->fcr >> 6])
			return fifo | IIR_CTI;
		return fifo | IIR_RDI;
	}
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return fifo | IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return fifo | IIR_MSI;
	return fifo | IIR_NO_INT;
}

/* Called with the lock held after every state change; irq_line is issued only on a change, and
 * under the lock so that level changes from different threads cannot be reordered. */
static void irq_update(struct uart *u)
{
	bool out2 = (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
	int level = out2 && !(iir_compute(u) & IIR_NO_INT);

	if (level != u->irq_level) {
		u->irq_level = level;
		vmm_irq_line(u->vmm, u->gsi, level);
	}
}

/* With the lock held: should the producer be told there is room? Clears the request if so. */
static bool rx_room_ready(struct uart *u)
{
	if (!u->rx_want || (u->mcr & MCR_LOOP) || u->rx_count > rx_capacity(u) / 2)
		return false;
	u->rx_want = false;
	return true;
}

static void rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->lsr &= ~LSR_DR;
}

static bool rx_put(struct uart *u, uint8_t c)
{
	if (u->rx_count >= rx_capacity(u))
		return false;
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_LEN] = c;
	u->rx_count++;
	u->lsr |= LSR_DR;
	return true;
}

static uint8_t rx_get(struct uart *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_LEN;
	if (--u->rx_count == 0)
		u->lsr &= ~LSR_DR;
	return c;
}

/* The transmitter hands each byte to the backend at once (it must not block: the console buffers
 * and drops on overflow), so the THR and the shift register are empty again before the guest can
 * look: THRE and TEMT stay set and every byte raises the THRE interrupt condition. */
static void tx_byte(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		if (!rx_put(u, c))
			u->lsr |= LSR_OE;	/* the shift register's byte is lost */
	} else if (u->tx) {
		u->tx(u->tx_arg, c);
	}
	u->lsr |= LSR_THRE | LSR_TEMT;
	u->thr_ipending = true;
}

static uint8_t reg_read(void *dev, unsigned reg)
{
	struct uart *u = dev;
	uint8_t v;

	switch (reg) {
	case UART_RBR:
		return (u->lcr & LCR_DLAB) ? u->dll : rx_get(u);
	case UART_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case UART_IIR:
		v = iir_compute(u);
		if ((v & 0x0f) == IIR_THRI)
			u->thr_ipending = false;
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = u->lsr;
		u->lsr &= ~LSR_ERRORS;
		return v;
	case UART_MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTAS;
		return v;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

static void reg_write(void *dev, unsigned reg, uint8_t v)
{
	struct uart *u = dev;

	switch (reg) {
	case UART_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			tx_byte(u, v);
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI while the THR is empty raises THRE at once (Linux's THRE test). */
		if ((v & IER_THRI) && !(u->ier & IER_THRI) && (u->lsr & LSR_THRE))
			u->thr_ipending = true;
		u->ier = v & IER_MASK;
		break;
	case UART_FCR:
		/* FCR bits other than 0 only take when bit 0 is set; toggling bit 0 resets the FIFOs. */
		if ((v ^ u->fcr) & FCR_ENABLE)
			rx_clear(u);
		if (v & FCR_CLEAR_RCVR)
			rx_clear(u);
		/* FCR_CLEAR_XMIT needs nothing: the transmitter never holds bytes. */
		u->fcr = (v & FCR_ENABLE) ? (v & FCR_STORED) : 0;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & MCR_MASK;
		msr_update(u);
		break;
	case UART_LSR:
	case UART_MSR:
		break;	/* read-only (factory test registers on real parts) */
	case UART_SCR:
		u->scr = v;
		break;
	}
}

static void uart_reset(struct uart *u)
{
	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0x03;		/* 8N1 */
	u->mcr = 0;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = msr_inputs(u);
	u->scr = 0;
	u->dll = 0x0c;		/* 9600 baud from 1.8432 MHz */
	u->dlm = 0;
	u->thr_ipending = false;
	rx_clear(u);
	u->irq_level = 0;
}

/* After a guest access, with the lock held: drive the line, unlock, then offer held input if the
 * access made room for it (outside the lock: the callback belongs to the backend). */
static void access_end(struct uart *u)
{
	bool notify;

	irq_update(u);
	notify = rx_room_ready(u);
	pthread_mutex_unlock(&u->lock);
	if (notify && u->rx_ready)
		u->rx_ready(u->rx_ready_arg);
}

static void uart_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct uart *u = dev;

	pthread_mutex_lock(&u->lock);
	isa_split_read(off, data, len, UART_NR_PORTS, reg_read, u);
	access_end(u);
}

static void uart_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct uart *u = dev;

	pthread_mutex_lock(&u->lock);
	isa_split_write(off, data, len, UART_NR_PORTS, reg_write, u);
	access_end(u);
}

const struct bus_ops uart_bus_ops = {
	.read = uart_read,
	.write = uart_write,
};

size_t uart_rx_push(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	/* In loopback the serial input is disconnected: hold the data until loopback ends. */
	if (!(u->mcr & MCR_LOOP)) {
		while (n < len && rx_put(u, buf[n]))
			n++;
	}
	if (n < len)
		u->rx_want = true;
	irq_update(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

int uart_create(struct uart **out, const struct uart_config *cfg)
{
	struct uart *u = calloc(1, sizeof(*u));
	int err;

	if (!u)
		return -ENOMEM;
	err = pthread_mutex_init(&u->lock, NULL);
	if (err) {
		free(u);
		return -err;
	}
	u->vmm = cfg->vmm;
	u->gsi = cfg->gsi;
	u->tx = cfg->tx;
	u->tx_arg = cfg->tx_arg;
	u->rx_ready = cfg->rx_ready;
	u->rx_ready_arg = cfg->rx_ready_arg;
	uart_reset(u);
	*out = u;
	return 0;
}

void uart_destroy(struct uart *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}
