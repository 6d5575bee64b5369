/* i8042 keyboard controller (IBM PC/AT technical reference; command set as Linux's i8042 driver uses
 * it) with both device ports empty, and system control port B at 0x61 (reads 0x20, writes ignored).
 * Runs on vCPU threads; a mutex keeps command/data sequences consistent between them. The API thread
 * queues keystrokes (Ctrl+Alt+Del) that come out of the data port one by one. */
#include "dev/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "dev/isa_split.h"
#include "log.h"

/* Offsets inside the 0x60..0x64 window. */
#define OFF_DATA	0
#define OFF_PORT_B	1
#define OFF_CMD		4

#define PORT_B_VALUE	0x20	/* refresh/timer-2 output bit as specified for this board */

/* Status register */
#define STR_OBF		0x01	/* output buffer full */
#define STR_IBF		0x02	/* input buffer full (never: writes are consumed at once) */
#define STR_SYS		0x04	/* system flag: self test passed */
#define STR_CMD		0x08	/* last write went to the command port */
#define STR_UNLOCKED	0x10	/* keyboard not inhibited */
#define STR_AUXDATA	0x20	/* output byte came from the AUX port */
#define STR_TIMEOUT	0x40	/* device did not answer */

/* Controller command byte */
#define CTR_KBDINT	0x01
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40

/* Controller commands */
#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_OUTP	0xd0
#define CMD_WRITE_OUTP	0xd1
#define CMD_KBD_LOOP	0xd2
#define CMD_AUX_LOOP	0xd3
#define CMD_AUX_SEND	0xd4
#define CMD_PULSE	0xf0	/* 0xf0..0xff: pulse output lines whose bit is clear; bit 0 = reset */

#define OUTP_RESET	0x01	/* output port bit 0: 0 holds the CPU in reset */
#define OUTP_A20	0x02

struct i8042 {
	pthread_mutex_t lock;
	const struct vmm_ops *vmm;
	int kbd_gsi;
	int irq_level;

	uint8_t ctr;		/* command byte */
	uint8_t outp;		/* output port */
	uint8_t pending;	/* command waiting for its data byte, 0 if none */
	uint8_t out;		/* output buffer (stays readable after it was taken, like hardware) */
	bool obf, aux, timeout, last_cmd;
	bool reset_req;		/* a write of the current access pulsed the reset line */

	uint8_t keys[32];	/* scancodes waiting for the output buffer (i8042_ctrl_alt_del) */
	unsigned keys_head, keys_len;
	unsigned long keys_queued;
};

static void out_put(struct i8042 *k, uint8_t v, bool aux, bool timeout)
{
	k->out = v;
	k->obf = true;
	k->aux = aux;
	k->timeout = timeout;
}

static uint8_t status_read(const struct i8042 *k)
{
	uint8_t s = STR_SYS | STR_UNLOCKED;

	if (k->obf)
		s |= STR_OBF;
	if (k->obf && k->aux)
		s |= STR_AUXDATA;
	if (k->timeout)
		s |= STR_TIMEOUT;
	if (k->last_cmd)
		s |= STR_CMD;
	return s;
}

/* Returns true when the command pulses the reset line. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	k->last_cmd = true;
	k->pending = 0;
	if (cmd >= CMD_PULSE)
		return !(cmd & 1);
	if (cmd == CMD_READ_CTR) {
		out_put(k, k->ctr, false, false);
		return false;
	}
	if (cmd > CMD_READ_CTR && cmd < CMD_WRITE_CTR) {
		out_put(k, 0, false, false);	/* rest of the controller RAM reads as zero */
		return false;
	}
	if (cmd >= CMD_WRITE_CTR && cmd < 0x80) {
		k->pending = cmd;
		return false;
	}
	switch (cmd) {
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		out_put(k, 0x02, false, false);	/* "clock line stuck high": no AUX port here */
		break;
	case CMD_SELF_TEST:
		out_put(k, 0x55, false, false);
		k->ctr |= CTR_SYS;
		break;
	case CMD_KBD_TEST:
		out_put(k, 0x00, false, false);	/* the interface itself is fine */
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_READ_OUTP:
		out_put(k, k->outp, false, false);
		break;
	case CMD_WRITE_OUTP:
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->pending = cmd;
		break;
	default:
		log_debug("i8042", "ignoring controller command 0x%02x", cmd);
		break;
	}
	return false;
}

/* Returns true when the byte pulses the reset line. */
static bool data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->last_cmd = false;
	k->pending = 0;
	switch (cmd) {
	case 0:
		/* To the keyboard, which is absent: the controller reports a timeout. */
		out_put(k, 0xff, false, true);
		break;
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTP:
		k->outp = v | OUTP_A20;	/* A20 stays enabled */
		return !(v & OUTP_RESET);
	case CMD_KBD_LOOP:
		out_put(k, v, false, false);
		break;
	case CMD_AUX_LOOP:
		/* No AUX port: the echo comes back on the keyboard channel. Linux takes that as a failed
		 * loop test, asks CMD_AUX_TEST, and drops the mouse at once instead of timing out. */
		out_put(k, v, false, false);
		break;
	case CMD_AUX_SEND:
		out_put(k, 0xff, true, true);
		break;
	default:
		break;	/* controller RAM writes (0x61..0x7f) */
	}
	return false;
}

static void irq_update(struct i8042 *k)
{
	int level = k->obf && !k->aux && (k->ctr & CTR_KBDINT);

	if (k->kbd_gsi < 0 || level == k->irq_level)
		return;
	k->irq_level = level;
	vmm_irq_line(k->vmm, (uint32_t)k->kbd_gsi, level);
}

/* The next waiting scancode into the empty output buffer, unless the keyboard is disabled. */
static void keys_feed(struct i8042 *k)
{
	if (k->obf || !k->keys_len || (k->ctr & CTR_KBDDIS))
		return;
	out_put(k, k->keys[k->keys_head], false, false);
	k->keys_head = (k->keys_head + 1) % sizeof(k->keys);
	k->keys_len--;
}

static uint8_t reg_read(void *dev, unsigned reg)
{
	struct i8042 *k = dev;

	switch (reg) {
	case OFF_DATA:
		k->obf = false;
		k->timeout = false;
		return k->out;
	case OFF_PORT_B:
		return PORT_B_VALUE;
	case OFF_CMD:
		return status_read(k);
	}
	return 0xff;
}

static void reg_write(void *dev, unsigned reg, uint8_t v)
{
	struct i8042 *k = dev;

	if (reg == OFF_DATA)
		k->reset_req |= data_write(k, v);
	else if (reg == OFF_CMD)
		k->reset_req |= command(k, v);
	/* port B and the unused ports ignore writes */
}

static void i8042_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct i8042 *k = dev;

	pthread_mutex_lock(&k->lock);
	isa_split_read(off, data, len, I8042_NR_PORTS, reg_read, k);
	irq_update(k);
	/* The next key after the line went low: a new edge for the (edge-triggered) ISA IRQ 1. */
	keys_feed(k);
	irq_update(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct i8042 *k = dev;
	bool reset;

	pthread_mutex_lock(&k->lock);
	k->reset_req = false;
	isa_split_write(off, data, len, I8042_NR_PORTS, reg_write, k);
	reset = k->reset_req;
	keys_feed(k);	/* the keyboard may just have been enabled */
	irq_update(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		vmm_request_stop(k->vmm, VM_STOP_REBOOT, 0);
}

const struct bus_ops i8042_bus_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

int i8042_create(struct i8042 **out, const struct i8042_config *cfg)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	err = pthread_mutex_init(&k->lock, NULL);
	if (err) {
		free(k);
		return -err;
	}
	k->vmm = cfg->vmm;
	k->kbd_gsi = cfg->kbd_gsi;
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
	k->outp = OUTP_RESET | OUTP_A20;
	*out = k;
	return 0;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

int i8042_ctrl_alt_del(struct i8042 *k)
{
	/* Make Ctrl, Alt, Delete, then break them in reverse: scan code set 1 as the controller
	 * hands it over while translation is on (Linux's default), else set 2. */
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	const uint8_t *seq;
	size_t n, i;
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	seq = k->ctr & CTR_XLATE ? set1 : set2;
	n = k->ctr & CTR_XLATE ? sizeof(set1) : sizeof(set2);
	if (k->keys_len + n > sizeof(k->keys)) {
		ret = -EBUSY;	/* the guest has not read the last ones */
	} else {
		for (i = 0; i < n; i++)
			k->keys[(k->keys_head + k->keys_len++) % sizeof(k->keys)] = seq[i];
		k->keys_queued += n;
		keys_feed(k);
		irq_update(k);
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

unsigned long i8042_keys_queued(struct i8042 *k)
{
	unsigned long n;

	pthread_mutex_lock(&k->lock);
	n = k->keys_queued;
	pthread_mutex_unlock(&k->lock);
	return n;
}
