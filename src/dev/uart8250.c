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

#define UART_STATE_VERSION	1

/* The guest-visible registers: what save writes, byte for byte (bytes only: no padding). */
struct uart_regs {
	uint8_t ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t thr_ipending;	/* THRE interrupt latched; cleared by an IIR read that reports it */
	uint8_t rx_head, rx_count;
	uint8_t rx[UART_FIFO_LEN];
};

struct uart {
	struct device dev;
	pthread_mutex_t lock;
	const struct vmm_ops *vmm;
	uint32_t gsi;
	void (*tx)(void *arg, uint8_t c);
	void *tx_arg;
	void (*rx_ready)(void *arg);
	void *rx_ready_arg;

	struct uart_regs r;
	bool rx_want;		/* a producer was refused; call rx_ready once room appears */
	int irq_level;
};

static const unsigned rx_trigger[4] = { 1, 4, 8, 14 };

static unsigned rx_capacity(const struct uart_regs *r)
{
	return (r->fcr & FCR_ENABLE) ? UART_FIFO_LEN : 1;
}

/* Modem status inputs: wired to the MCR outputs in loopback, otherwise a present, ready peer. */
static uint8_t msr_inputs(const struct uart_regs *r)
{
	uint8_t m = 0;

	if (!(r->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (r->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (r->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (r->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (r->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static void msr_update(struct uart *u)
{
	uint8_t now = msr_inputs(&u->r), old = u->r.msr & ~MSR_DELTAS, d = u->r.msr & MSR_DELTAS;

	if ((now ^ old) & MSR_CTS)
		d |= MSR_DCTS;
	if ((now ^ old) & MSR_DSR)
		d |= MSR_DDSR;
	if ((now ^ old) & MSR_DCD)
		d |= MSR_DDCD;
	if ((old & MSR_RI) && !(now & MSR_RI))
		d |= MSR_TERI;	/* trailing edge of ring indicator */
	u->r.msr = now | d;
}

/* Interrupt identification by priority: line status > received data > THR empty > modem status. */
static uint8_t iir_compute(const struct uart *u)
{
	uint8_t fifo = (u->r.fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0;

	if ((u->r.ier & IER_RLSI) && (u->r.lsr & LSR_ERRORS))
		return fifo | IIR_RLSI;
	if ((u->r.ier & IER_RDI) && u->r.rx_count) {
		/* The 4-character-time timeout is approximated as "already expired". */
		if ((u->r.fcr & FCR_ENABLE) && u->r.rx_count < rx_trigger[u->r.fcr >> 6])
			return fifo | IIR_CTI;
		return fifo | IIR_RDI;
	}
	if ((u->r.ier & IER_THRI) && u->r.thr_ipending)
		return fifo | IIR_THRI;
	if ((u->r.ier & IER_MSI) && (u->r.msr & MSR_DELTAS))
		return fifo | IIR_MSI;
	return fifo | IIR_NO_INT;
}

/* Called with the lock held after every state change; irq_line is issued only on a change, and
 * under the lock so that level changes from different threads cannot be reordered. */
static void irq_update(struct uart *u)
{
	bool out2 = (u->r.mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
	int level = out2 && !(iir_compute(u) & IIR_NO_INT);

	if (level != u->irq_level) {
		u->irq_level = level;
		vmm_irq_line(u->vmm, u->gsi, level);
	}
}

/* With the lock held: should the producer be told there is room? Clears the request if so. */
static bool rx_room_ready(struct uart *u)
{
	if (!u->rx_want || (u->r.mcr & MCR_LOOP) || u->r.rx_count > rx_capacity(&u->r) / 2)
		return false;
	u->rx_want = false;
	return true;
}

static void rx_clear(struct uart *u)
{
	u->r.rx_head = 0;
	u->r.rx_count = 0;
	u->r.lsr &= ~LSR_DR;
}

static bool rx_put(struct uart *u, uint8_t c)
{
	if (u->r.rx_count >= rx_capacity(&u->r))
		return false;
	u->r.rx[(u->r.rx_head + u->r.rx_count) % UART_FIFO_LEN] = c;
	u->r.rx_count++;
	u->r.lsr |= LSR_DR;
	return true;
}

static uint8_t rx_get(struct uart *u)
{
	uint8_t c;

	if (!u->r.rx_count)
		return 0;
	c = u->r.rx[u->r.rx_head];
	u->r.rx_head = (u->r.rx_head + 1) % UART_FIFO_LEN;
	if (--u->r.rx_count == 0)
		u->r.lsr &= ~LSR_DR;
	return c;
}

/* The transmitter hands each byte to the backend at once (it must not block: the console buffers
 * and drops on overflow), so the THR and the shift register are empty again before the guest can
 * look: THRE and TEMT stay set and every byte raises the THRE interrupt condition. */
static void tx_byte(struct uart *u, uint8_t c)
{
	if (u->r.mcr & MCR_LOOP) {
		if (!rx_put(u, c))
			u->r.lsr |= LSR_OE;	/* the shift register's byte is lost */
	} else if (u->tx) {
		u->tx(u->tx_arg, c);
	}
	u->r.lsr |= LSR_THRE | LSR_TEMT;
	u->r.thr_ipending = true;
}

static uint8_t reg_read(void *dev, unsigned reg)
{
	struct uart *u = dev;
	uint8_t v;

	switch (reg) {
	case UART_RBR:
		return (u->r.lcr & LCR_DLAB) ? u->r.dll : rx_get(u);
	case UART_IER:
		return (u->r.lcr & LCR_DLAB) ? u->r.dlm : u->r.ier;
	case UART_IIR:
		v = iir_compute(u);
		if ((v & 0x0f) == IIR_THRI)
			u->r.thr_ipending = false;
		return v;
	case UART_LCR:
		return u->r.lcr;
	case UART_MCR:
		return u->r.mcr;
	case UART_LSR:
		v = u->r.lsr;
		u->r.lsr &= ~LSR_ERRORS;
		return v;
	case UART_MSR:
		v = u->r.msr;
		u->r.msr &= ~MSR_DELTAS;
		return v;
	case UART_SCR:
		return u->r.scr;
	}
	return 0xff;
}

static void reg_write(void *dev, unsigned reg, uint8_t v)
{
	struct uart *u = dev;

	switch (reg) {
	case UART_THR:
		if (u->r.lcr & LCR_DLAB)
			u->r.dll = v;
		else
			tx_byte(u, v);
		break;
	case UART_IER:
		if (u->r.lcr & LCR_DLAB) {
			u->r.dlm = v;
			break;
		}
		/* Enabling THRI while the THR is empty raises THRE at once (Linux's THRE test). */
		if ((v & IER_THRI) && !(u->r.ier & IER_THRI) && (u->r.lsr & LSR_THRE))
			u->r.thr_ipending = true;
		u->r.ier = v & IER_MASK;
		break;
	case UART_FCR:
		/* FCR bits other than 0 only take when bit 0 is set; toggling bit 0 resets the FIFOs. */
		if ((v ^ u->r.fcr) & FCR_ENABLE)
			rx_clear(u);
		if (v & FCR_CLEAR_RCVR)
			rx_clear(u);
		/* FCR_CLEAR_XMIT needs nothing: the transmitter never holds bytes. */
		u->r.fcr = (v & FCR_ENABLE) ? (v & FCR_STORED) : 0;
		break;
	case UART_LCR:
		u->r.lcr = v;
		break;
	case UART_MCR:
		u->r.mcr = v & MCR_MASK;
		msr_update(u);
		break;
	case UART_LSR:
	case UART_MSR:
		break;	/* read-only (factory test registers on real parts) */
	case UART_SCR:
		u->r.scr = v;
		break;
	}
}

/* Power-on values (PC16550D "Reset" table, plus the divisor a BIOS leaves: 9600 baud). */
static void regs_power_on(struct uart_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->lcr = 0x03;		/* 8N1 */
	r->lsr = LSR_THRE | LSR_TEMT;
	r->msr = msr_inputs(r);
	r->dll = 0x0c;		/* 9600 baud from 1.8432 MHz */
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
	if (!(u->r.mcr & MCR_LOOP)) {
		while (n < len && rx_put(u, buf[n]))
			n++;
	}
	if (n < len)
		u->rx_want = true;
	irq_update(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* Lifecycle (device.h). The line level is what KVM was last told, so it stays with the wiring:
 * after a reset or a restore irq_update drives the line to match the new registers. */

static struct uart *uart_of(struct device *d)
{
	return device_of(d, struct uart, dev);
}

static void uart_dev_reset(struct device *d)
{
	struct uart *u = uart_of(d);

	pthread_mutex_lock(&u->lock);
	regs_power_on(&u->r);
	access_end(u);
}

static ssize_t uart_dev_save(struct device *d, void *buf, size_t cap)
{
	struct uart *u = uart_of(d);

	if (cap < sizeof(u->r))
		return -ENOSPC;
	pthread_mutex_lock(&u->lock);
	memcpy(buf, &u->r, sizeof(u->r));
	pthread_mutex_unlock(&u->lock);
	return sizeof(u->r);
}

/* Only values the model itself can reach: a register bit it never sets, a FIFO count past its
 * capacity or LSR.DR disagreeing with the FIFO would break the invariants the handlers rely on. */
static bool regs_valid(const struct uart_regs *r)
{
	uint8_t lsr_fixed = LSR_THRE | LSR_TEMT;

	if ((r->ier & ~IER_MASK) || (r->mcr & ~MCR_MASK) || r->thr_ipending > 1)
		return false;
	if (r->fcr && (!(r->fcr & FCR_ENABLE) || (r->fcr & ~FCR_STORED)))
		return false;
	if ((r->lsr & ~(lsr_fixed | LSR_ERRORS | LSR_DR)) != 0 || (r->lsr & lsr_fixed) != lsr_fixed ||
	    !(r->lsr & LSR_DR) != !r->rx_count)
		return false;
	if ((r->msr & ~MSR_DELTAS) != msr_inputs(r))
		return false;
	return r->rx_head < UART_FIFO_LEN && r->rx_count <= rx_capacity(r);
}

static int uart_dev_restore(struct device *d, const void *buf, size_t len)
{
	struct uart *u = uart_of(d);
	struct uart_regs r;

	if (len != sizeof(r))
		return -EINVAL;
	memcpy(&r, buf, sizeof(r));
	if (!regs_valid(&r))
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	u->r = r;
	access_end(u);
	return 0;
}

static void uart_dev_destroy(struct device *d)
{
	uart_destroy(uart_of(d));
}

static const struct device_ops uart_dev_ops = {
	.kind = "uart",
	.state_version = UART_STATE_VERSION,
	.reset = uart_dev_reset,
	.save = uart_dev_save,
	.restore = uart_dev_restore,
	.destroy = uart_dev_destroy,
};

struct device *uart_device(struct uart *u)
{
	return &u->dev;
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
	regs_power_on(&u->r);
	device_init(&u->dev, &uart_dev_ops, cfg->name ? cfg->name : "com1");
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
