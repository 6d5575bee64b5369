/* i8042 keyboard controller with a PS/2 keyboard behind it and no AUX (mouse) port, plus system
 * control port B at 0x61 (reads 0x20, writes ignored). IBM PC/AT technical reference (controller
 * commands, command byte, status) and the PS/2 keyboard command set, as Linux's i8042 and atkbd
 * drivers use them. Runs on vCPU threads; a mutex keeps command/data sequences consistent between
 * them. The API thread "types" keystrokes (Ctrl+Alt+Del) that the keyboard sends while it scans. */
#include "dev/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dev/isa_split.h"
#include "log.h"

/* Offsets inside the 0x60..0x64 window. */
#define OFF_DATA	0
#define OFF_PORT_B	1
#define OFF_CMD		4

#define PORT_B_VALUE	0x20	/* refresh/timer-2 output bit as specified for this board */

/* Status register (input buffer full, 0x02, is never set: writes are consumed at once) */
#define STR_OBF		0x01	/* output buffer full */
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

/* PS/2 keyboard commands (bytes the host writes to port 0x60) and replies */
#define KBD_SET_LEDS	0xed	/* + LED bits */
#define KBD_ECHO	0xee
#define KBD_SCAN_SET	0xf0	/* + set (1..3), or 0 = which set? */
#define KBD_GET_ID	0xf2
#define KBD_TYPEMATIC	0xf3	/* + rate/delay */
#define KBD_ENABLE	0xf4
#define KBD_DISABLE	0xf5	/* defaults, and stop scanning */
#define KBD_DEFAULTS	0xf6
#define KBD_SET3_FIRST	0xf7	/* 0xf7..0xfa: set-3 key types for every key (no effect here) */
#define KBD_SET3_KEYS	0xfb	/* 0xfb..0xfd: set-3 key types for a list of keys */
#define KBD_RESEND	0xfe
#define KBD_RESET	0xff
#define KBD_FIRST_CMD	KBD_SET_LEDS	/* bytes below this are arguments, or unknown commands */
#define KBD_ACK		0xfa
#define KBD_BAT_OK	0xaa
#define KBD_NAK		0xfe	/* "resend": unknown command or bad argument */
#define KBD_ID0		0xab
#define KBD_ID1		0x83
#define KBD_ID1_XLATED	0x41	/* 0x83 after the controller's set-2 to set-1 translation */
#define KBD_TYPEMATIC_DEFAULT 0x2b	/* 10.9 characters/s after 500 ms */

/* The scan set query's answer for sets 1, 2, 3 once the controller translated it. */
static const uint8_t set_query_xlated[4] = { 0, 0x43, 0x41, 0x3f };

#define RESP_MAX	4	/* the longest reply (ACK, ID, ID) and one spare */
#define KEYS_MAX	16	/* typed scancodes waiting: a PS/2 keyboard's own buffer */

/* Everything the guest can observe, saved and restored byte for byte (no padding: bytes only). */
struct i8042_state {
	/* the controller */
	uint8_t ctr;		/* command byte */
	uint8_t outp;		/* output port */
	uint8_t pending;	/* controller command waiting for its data byte, 0 if none */
	uint8_t out;		/* output buffer (stays readable after it was taken, like hardware) */
	uint8_t obf, aux, timeout, last_cmd;	/* 0 or 1 */
	/* the keyboard */
	uint8_t kbd_cmd;	/* keyboard command waiting for its argument, 0 if none */
	uint8_t scanning;	/* 0 or 1: typed keys are sent */
	uint8_t scan_set;	/* 1..3 */
	uint8_t leds;		/* 0..7 */
	uint8_t typematic;	/* 0..0x7f */
	uint8_t last_sent;	/* for KBD_RESEND */
	uint8_t resp_len;	/* reply bytes not yet in the output buffer, oldest first */
	uint8_t resp[RESP_MAX];
	uint8_t keys_head, keys_len;	/* typed scancodes (ring) */
	uint8_t keys[KEYS_MAX];
};

struct i8042 {
	struct device dev;
	pthread_mutex_t lock;
	const struct vmm_ops *vmm;
	int kbd_gsi;
	int irq_level;		/* as last driven on kbd_gsi */
	bool reset_req;		/* a write of the current access pulsed the reset line */
	unsigned long keys_queued;
	struct i8042_state s;
};

static void power_on(struct i8042_state *s)
{
	memset(s, 0, sizeof(*s));
	s->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
	s->outp = OUTP_RESET | OUTP_A20;
	s->scanning = 1;
	s->scan_set = 2;
	s->typematic = KBD_TYPEMATIC_DEFAULT;
}

static void out_put(struct i8042_state *s, uint8_t v, bool aux, bool timeout)
{
	s->out = v;
	s->obf = 1;
	s->aux = aux;
	s->timeout = timeout;
}

static uint8_t status_read(const struct i8042_state *s)
{
	uint8_t v = STR_SYS | STR_UNLOCKED;

	if (s->obf)
		v |= STR_OBF;
	if (s->obf && s->aux)
		v |= STR_AUXDATA;
	if (s->timeout)
		v |= STR_TIMEOUT;
	if (s->last_cmd)
		v |= STR_CMD;
	return v;
}

/* ---- the keyboard ------------------------------------------------------------------------ */

/* A reply byte from the keyboard; it reaches the output buffer once that is free. */
static void kbd_send(struct i8042_state *s, uint8_t v)
{
	if (s->resp_len < RESP_MAX)
		s->resp[s->resp_len++] = v;
	s->last_sent = v;
}

static void kbd_defaults(struct i8042_state *s)
{
	s->scan_set = 2;
	s->typematic = KBD_TYPEMATIC_DEFAULT;
}

/* An argument byte for s->kbd_cmd. */
static void kbd_argument(struct i8042_state *s, uint8_t v)
{
	switch (s->kbd_cmd) {
	case KBD_SET_LEDS:
		s->leds = v & 7;
		break;
	case KBD_TYPEMATIC:
		s->typematic = v & 0x7f;
		break;
	case KBD_SCAN_SET:
		if (v > 3) {
			kbd_send(s, KBD_NAK);	/* still waiting for a valid set */
			return;
		}
		kbd_send(s, KBD_ACK);
		if (v == 0)
			kbd_send(s, s->ctr & CTR_XLATE ? set_query_xlated[s->scan_set] : s->scan_set);
		else
			s->scan_set = v;
		s->kbd_cmd = 0;
		return;
	default:
		/* 0xfb..0xfd: a list of keys, each acknowledged, until the next command */
		kbd_send(s, KBD_ACK);
		return;
	}
	kbd_send(s, KBD_ACK);
	s->kbd_cmd = 0;
}

/* A byte the host writes to the keyboard (port 0x60 with no controller command pending). */
static void kbd_write(struct i8042_state *s, uint8_t v)
{
	/* The host talking cuts short a reply the keyboard had not sent yet (a PS/2 host inhibits
	 * the device to send), so a flood of commands never piles up replies. */
	s->resp_len = 0;
	if (s->kbd_cmd && v < KBD_FIRST_CMD) {
		kbd_argument(s, v);
		return;
	}
	s->kbd_cmd = 0;		/* a command in place of an argument replaces the waiting one */
	switch (v) {
	case KBD_SET_LEDS:
	case KBD_SCAN_SET:
	case KBD_TYPEMATIC:
	case KBD_SET3_KEYS ... KBD_SET3_KEYS + 2:
		kbd_send(s, KBD_ACK);
		s->kbd_cmd = v;
		break;
	case KBD_ECHO:
		kbd_send(s, KBD_ECHO);
		break;
	case KBD_GET_ID:
		kbd_send(s, KBD_ACK);
		kbd_send(s, KBD_ID0);
		kbd_send(s, s->ctr & CTR_XLATE ? KBD_ID1_XLATED : KBD_ID1);
		break;
	case KBD_ENABLE:
		kbd_send(s, KBD_ACK);
		s->scanning = 1;
		break;
	case KBD_DISABLE:
		kbd_send(s, KBD_ACK);
		kbd_defaults(s);
		s->scanning = 0;
		break;
	case KBD_DEFAULTS:
		kbd_send(s, KBD_ACK);
		kbd_defaults(s);
		break;
	case KBD_SET3_FIRST ... KBD_SET3_FIRST + 3:
		kbd_send(s, KBD_ACK);
		break;
	case KBD_RESEND:
		kbd_send(s, s->last_sent);
		break;
	case KBD_RESET:
		kbd_send(s, KBD_ACK);
		kbd_defaults(s);
		s->leds = 0;
		s->scanning = 1;
		kbd_send(s, KBD_BAT_OK);
		break;
	default:
		kbd_send(s, KBD_NAK);
		break;
	}
}

/* The next byte from the keyboard into the empty output buffer, unless the controller has the
 * keyboard interface disabled: replies first, then typed keys while the keyboard scans. */
static void kbd_feed(struct i8042_state *s)
{
	if (s->obf || (s->ctr & CTR_KBDDIS))
		return;
	if (s->resp_len) {
		out_put(s, s->resp[0], false, false);
		memmove(s->resp, s->resp + 1, --s->resp_len);
		return;
	}
	if (!s->keys_len || !s->scanning)
		return;
	out_put(s, s->keys[s->keys_head], false, false);
	s->keys_head = (uint8_t)((s->keys_head + 1) % KEYS_MAX);
	s->keys_len--;
}

/* ---- the controller ---------------------------------------------------------------------- */

/* Returns true when the command pulses the reset line. */
static bool command(struct i8042_state *s, uint8_t cmd)
{
	s->last_cmd = 1;
	s->pending = 0;
	if (cmd >= CMD_PULSE)
		return !(cmd & 1);
	if (cmd == CMD_READ_CTR) {
		out_put(s, s->ctr, false, false);
		return false;
	}
	if (cmd > CMD_READ_CTR && cmd < CMD_WRITE_CTR) {
		out_put(s, 0, false, false);	/* rest of the controller RAM reads as zero */
		return false;
	}
	if (cmd >= CMD_WRITE_CTR && cmd < 0x80) {
		s->pending = cmd;
		return false;
	}
	switch (cmd) {
	case CMD_AUX_DISABLE:
		s->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		s->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		out_put(s, 0x02, false, false);	/* "clock line stuck high": no AUX port here */
		break;
	case CMD_SELF_TEST:
		out_put(s, 0x55, false, false);
		s->ctr |= CTR_SYS;
		break;
	case CMD_KBD_TEST:
		out_put(s, 0x00, false, false);	/* the interface itself is fine */
		break;
	case CMD_KBD_DISABLE:
		s->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		s->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_READ_OUTP:
		out_put(s, s->outp, false, false);
		break;
	case CMD_WRITE_OUTP:
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		s->pending = cmd;
		break;
	default:
		log_debug("i8042", "ignoring controller command 0x%02x", cmd);
		break;
	}
	return false;
}

static bool pending_valid(uint8_t cmd)
{
	return cmd == 0 || (cmd >= CMD_WRITE_CTR && cmd < 0x80) ||
	       (cmd >= CMD_WRITE_OUTP && cmd <= CMD_AUX_SEND);
}

/* Returns true when the byte pulses the reset line. */
static bool data_write(struct i8042_state *s, uint8_t v)
{
	uint8_t cmd = s->pending;

	s->last_cmd = 0;
	s->pending = 0;
	switch (cmd) {
	case 0:
		kbd_write(s, v);
		break;
	case CMD_WRITE_CTR:
		s->ctr = v;
		break;
	case CMD_WRITE_OUTP:
		s->outp = v | OUTP_A20;	/* A20 stays enabled */
		return !(v & OUTP_RESET);
	case CMD_KBD_LOOP:
		out_put(s, v, false, false);
		break;
	case CMD_AUX_LOOP:
		/* No AUX port: the echo comes back on the keyboard channel. Linux takes that as a failed
		 * loop test, asks CMD_AUX_TEST, and drops the mouse at once instead of timing out. */
		out_put(s, v, false, false);
		break;
	case CMD_AUX_SEND:
		out_put(s, 0xff, true, true);
		break;
	default:
		break;	/* controller RAM writes (0x61..0x7f) */
	}
	return false;
}

static int irq_wanted(const struct i8042_state *s)
{
	return s->obf && !s->aux && (s->ctr & CTR_KBDINT);
}

static void irq_update(struct i8042 *k)
{
	int level = irq_wanted(&k->s);

	if (k->kbd_gsi < 0 || level == k->irq_level)
		return;
	k->irq_level = level;
	vmm_irq_line(k->vmm, (uint32_t)k->kbd_gsi, level);
}

static uint8_t reg_read(void *dev, unsigned reg)
{
	struct i8042_state *s = &((struct i8042 *)dev)->s;

	switch (reg) {
	case OFF_DATA:
		s->obf = 0;
		s->timeout = 0;
		return s->out;
	case OFF_PORT_B:
		return PORT_B_VALUE;
	case OFF_CMD:
		return status_read(s);
	}
	return 0xff;
}

static void reg_write(void *dev, unsigned reg, uint8_t v)
{
	struct i8042 *k = dev;

	if (reg == OFF_DATA)
		k->reset_req |= data_write(&k->s, v);
	else if (reg == OFF_CMD)
		k->reset_req |= command(&k->s, v);
	/* port B and the unused ports ignore writes */
}

static void i8042_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct i8042 *k = dev;

	pthread_mutex_lock(&k->lock);
	isa_split_read(off, data, len, I8042_NR_PORTS, reg_read, k);
	irq_update(k);
	/* The next byte after the line went low: a new edge for the (edge-triggered) ISA IRQ 1,
	 * one interrupt per byte as Linux's i8042_interrupt expects. */
	kbd_feed(&k->s);
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
	kbd_feed(&k->s);	/* a reply, or the keyboard interface was just enabled */
	irq_update(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		vmm_request_stop(k->vmm, VM_STOP_REBOOT, 0);
}

const struct bus_ops i8042_bus_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

/* ---- lifecycle --------------------------------------------------------------------------- */

static void dev_reset(struct device *d)
{
	struct i8042 *k = device_of(d, struct i8042, dev);

	pthread_mutex_lock(&k->lock);
	power_on(&k->s);
	irq_update(k);
	pthread_mutex_unlock(&k->lock);
}

static ssize_t dev_save(struct device *d, void *buf, size_t cap)
{
	struct i8042 *k = device_of(d, struct i8042, dev);

	if (cap < sizeof(k->s))
		return -ENOSPC;
	pthread_mutex_lock(&k->lock);
	memcpy(buf, &k->s, sizeof(k->s));
	pthread_mutex_unlock(&k->lock);
	return sizeof(k->s);
}

static bool state_valid(const struct i8042_state *s)
{
	uint8_t c = s->kbd_cmd;
	bool kbd_cmd_ok = !c || c == KBD_SET_LEDS || c == KBD_SCAN_SET || c == KBD_TYPEMATIC ||
			  (c >= KBD_SET3_KEYS && c <= KBD_SET3_KEYS + 2);

	return kbd_cmd_ok && pending_valid(s->pending) && (s->outp & OUTP_A20) &&
	       s->obf <= 1 && s->aux <= 1 && s->timeout <= 1 && s->last_cmd <= 1 &&
	       s->scanning <= 1 && s->scan_set >= 1 && s->scan_set <= 3 && s->leds <= 7 &&
	       s->typematic <= 0x7f && s->resp_len <= RESP_MAX && s->keys_head < KEYS_MAX &&
	       s->keys_len <= KEYS_MAX;
}

static int dev_restore(struct device *d, const void *buf, size_t len)
{
	struct i8042 *k = device_of(d, struct i8042, dev);
	struct i8042_state s;

	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	if (!state_valid(&s))
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	k->s = s;
	/* The interrupt controller's own restored state carries the line; only track it here. */
	k->irq_level = irq_wanted(&k->s);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static void dev_destroy(struct device *d) { i8042_destroy(device_of(d, struct i8042, dev)); }

static const struct device_ops i8042_device_ops = {
	.kind = "i8042",
	.state_version = 1,
	.reset = dev_reset,
	.save = dev_save,
	.restore = dev_restore,
	.destroy = dev_destroy,
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
	device_init(&k->dev, &i8042_device_ops, "i8042");
	k->vmm = cfg->vmm;
	k->kbd_gsi = cfg->kbd_gsi;
	power_on(&k->s);
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

struct device *i8042_device(struct i8042 *k)
{
	return &k->dev;
}

int i8042_ctrl_alt_del(struct i8042 *k)
{
	/* Make Ctrl, Alt, Delete, then break them in reverse, in the codes the guest receives: set 1
	 * while the controller translates (Linux's default) or the keyboard uses set 1, else the
	 * keyboard's set 2 or 3 (Delete is 0x64 in set 3, with no 0xe0 prefix). */
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	static const uint8_t set3[] = { 0x11, 0x19, 0x64, 0xf0, 0x64, 0xf0, 0x19, 0xf0, 0x11 };
	struct i8042_state *s = &k->s;
	const uint8_t *seq;
	size_t n, i;
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	if ((s->ctr & CTR_XLATE) || s->scan_set == 1) {
		seq = set1;
		n = sizeof(set1);
	} else if (s->scan_set == 3) {
		seq = set3;
		n = sizeof(set3);
	} else {
		seq = set2;
		n = sizeof(set2);
	}
	if (s->keys_len + n > KEYS_MAX) {
		ret = -EBUSY;	/* the guest has not read the last ones */
	} else {
		for (i = 0; i < n; i++)
			s->keys[(s->keys_head + s->keys_len++) % KEYS_MAX] = seq[i];
		k->keys_queued += n;
		kbd_feed(s);
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
