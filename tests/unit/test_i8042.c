/* Unit tests for the i8042 controller (Linux's probe sequence, reset paths, port B, keyboard IRQ),
 * the PS/2 keyboard behind it (every command as atkbd sends it, typed Ctrl+Alt+Del), its lifecycle
 * (reset, save/restore of hostile records) and the test-exit port (codes of every width), including
 * hostile widths, offsets, commands, arguments and floods. */
#include <errno.h>
#include <stdint.h>

#include "core/device.h"
#include "dev/i8042.h"
#include "dev/test_exit.h"
#include "fake_vmm.h"
#include "port_io.h"
#include "test.h"

enum { DATA = 0, PORT_B = 1, CMD = 4, STATUS = 4 };

static struct fake_vmm fk;
static struct vmm_ops fake_ops;

static struct i8042 *mk(int gsi)
{
	struct i8042 *k = NULL;
	struct i8042_config cfg = { .vmm = &fake_ops, .kbd_gsi = gsi };

	fake_vmm_init(&fk, &fake_ops);
	CHECK_EQ(i8042_create(&k, &cfg), 0);
	return k;
}

static uint8_t in8(struct i8042 *k, unsigned off)
{
	return port_in8(&i8042_bus_ops, k, off);
}

static void out8(struct i8042 *k, unsigned off, uint8_t v)
{
	port_out8(&i8042_bus_ops, k, off, v);
}

/* A command with one result byte, the way Linux's i8042_command() does it. */
static int command_result(struct i8042 *k, uint8_t cmd)
{
	CHECK_EQ(in8(k, STATUS) & 0x02, 0);	/* input buffer empty */
	out8(k, CMD, cmd);
	if (!(in8(k, STATUS) & 0x01))
		return -1;
	return in8(k, DATA);
}

static void test_status_and_port_b(void)
{
	struct i8042 *k = mk(-1);

	CHECK_EQ(in8(k, STATUS), 0x14);		/* system flag, not inhibited, nothing pending */
	CHECK_EQ(in8(k, PORT_B), 0x20);
	out8(k, PORT_B, 0xff);
	CHECK_EQ(in8(k, PORT_B), 0x20);
	CHECK_EQ(in8(k, 2), 0xff);
	CHECK_EQ(in8(k, 3), 0xff);
	CHECK_EQ(fk.stops, 0);
	i8042_destroy(k);
}

static void test_linux_probe(void)
{
	struct i8042 *k = mk(-1);
	int ctr;

	CHECK_EQ(command_result(k, 0xaa), 0x55);
	CHECK_EQ(in8(k, STATUS) & 0x01, 0);	/* result consumed */
	ctr = command_result(k, 0x20);
	CHECK(ctr >= 0);
	CHECK_EQ(command_result(k, 0x20), ctr);	/* stable */
	out8(k, CMD, 0x60);
	CHECK_EQ(in8(k, STATUS) & 0x08, 0x08);	/* last write was a command */
	out8(k, DATA, 0x74);
	CHECK_EQ(in8(k, STATUS) & 0x09, 0);
	CHECK_EQ(command_result(k, 0x20), 0x74);
	/* AUX: loop test answers on the keyboard channel, AUX test reports an error */
	out8(k, CMD, 0xd3);
	out8(k, DATA, 0x5a);
	CHECK_EQ(in8(k, STATUS) & 0x21, 0x01);
	CHECK_EQ(command_result(k, 0xa9), 0x02);
	out8(k, CMD, 0xa7);
	CHECK_EQ(command_result(k, 0x20) & 0x20, 0x20);
	out8(k, CMD, 0xa8);
	CHECK_EQ(command_result(k, 0x20) & 0x20, 0);
	out8(k, CMD, 0xad);
	CHECK_EQ(command_result(k, 0x20) & 0x10, 0x10);
	out8(k, CMD, 0xae);
	CHECK_EQ(command_result(k, 0x20) & 0x10, 0);
	CHECK_EQ(command_result(k, 0xab), 0x00);
	/* a byte for the mouse, which is absent: timeout and AUX data status, 0xff */
	out8(k, CMD, 0xd4);
	out8(k, DATA, 0xf2);
	CHECK_EQ(in8(k, STATUS) & 0x61, 0x61);
	CHECK_EQ(in8(k, DATA), 0xff);
	CHECK_EQ(in8(k, STATUS) & 0x61, 0);
	/* the keyboard is there: get ID answers ACK, 0xab, 0x41 (translated) */
	out8(k, DATA, 0xf2);
	CHECK_EQ(in8(k, STATUS) & 0x61, 0x01);
	CHECK_EQ(in8(k, DATA), 0xfa);
	CHECK_EQ(in8(k, DATA), 0xab);
	CHECK_EQ(in8(k, DATA), 0x41);
	CHECK_EQ(in8(k, STATUS) & 0x01, 0);
	CHECK_EQ(fk.stops, 0);
	i8042_destroy(k);
}

static void test_reset(void)
{
	struct i8042 *k = mk(-1);

	out8(k, CMD, 0xff);			/* pulse nothing */
	CHECK_EQ(fk.stops, 0);
	out8(k, CMD, 0xfe);
	CHECK_EQ(fk.stops, 1);
	CHECK_EQ(fk.why, VM_STOP_REBOOT);
	CHECK_EQ(fk.code, 0);
	i8042_destroy(k);

	k = mk(-1);
	CHECK_EQ(command_result(k, 0xd0) & 0x01, 0x01);
	out8(k, CMD, 0xd1);
	out8(k, DATA, 0x03);			/* reset bit still set: no reset */
	CHECK_EQ(fk.stops, 0);
	out8(k, CMD, 0xd1);
	out8(k, DATA, 0x02);
	CHECK_EQ(fk.stops, 1);
	CHECK_EQ(fk.why, VM_STOP_REBOOT);
	out8(k, DATA, 0x02);			/* plain keyboard byte now */
	CHECK_EQ(fk.stops, 1);
	i8042_destroy(k);
}

static void test_kbd_irq(void)
{
	struct i8042 *k = mk(1);

	out8(k, CMD, 0x60);
	out8(k, DATA, 0x00);			/* keyboard interrupt off */
	out8(k, DATA, 0xee);			/* echo */
	CHECK_EQ(fk.line_changes, 0);
	CHECK_EQ(in8(k, DATA), 0xee);
	out8(k, CMD, 0x60);
	out8(k, DATA, 0x01);
	out8(k, DATA, 0xee);
	CHECK_EQ(fk.last_level, 1);
	CHECK_EQ(fk.last_gsi, 1);
	in8(k, STATUS);
	CHECK_EQ(fk.line_changes, 1);
	in8(k, DATA);
	CHECK_EQ(fk.last_level, 0);
	CHECK_EQ(fk.line_changes, 2);
	/* one rising edge per byte of a three-byte reply (the ISA IRQ is edge-triggered) */
	out8(k, DATA, 0xf2);
	CHECK_EQ(fk.last_level, 1);
	CHECK_EQ(fk.line_changes, 3);
	CHECK_EQ(in8(k, DATA), 0xfa);
	CHECK_EQ(fk.line_changes, 5);		/* low, then high for 0xab */
	CHECK_EQ(fk.last_level, 1);
	CHECK_EQ(in8(k, DATA), 0xab);
	CHECK_EQ(fk.line_changes, 7);
	CHECK_EQ(in8(k, DATA), 0x83);		/* command byte 0x01: no translation */
	CHECK_EQ(fk.line_changes, 8);
	CHECK_EQ(fk.last_level, 0);
	in8(k, DATA);				/* nothing pending: no edge */
	CHECK_EQ(fk.line_changes, 8);
	i8042_destroy(k);
}

static void test_i8042_hostile(void)
{
	struct i8042 *k = mk(1);
	uint32_t v = 0;
	uint64_t big = ~0ULL;
	uint32_t seed = 99;

	i8042_bus_ops.read(k, 0, &v, 4);	/* data, port B, 0x62, 0x63 */
	CHECK_EQ(v >> 8, 0xffff20);
	i8042_bus_ops.read(k, 1000, &big, 8);
	CHECK_EQ(big, ~0ULL);
	i8042_bus_ops.read(k, ~0ULL, &v, 4);
	CHECK_EQ(v, 0xffffffff);
	i8042_bus_ops.write(k, ~0ULL, "\xfe\xfe\xfe\xfe", 4);	/* must not wrap to port 0x60/0x64 */
	CHECK_EQ(fk.stops, 0);
	for (int i = 0; i < 100000; i++) {
		uint8_t d[4];

		port_random_access(&i8042_bus_ops, k, &seed, 7, d);
	}
	CHECK(fk.stops > 0);			/* garbage includes reset pulses; each one survived */
	CHECK_EQ(fk.why, VM_STOP_REBOOT);
	CHECK_EQ(command_result(k, 0xaa), 0x55);
	i8042_destroy(k);
}

/* Write v to the keyboard and collect its reply (every byte while the output buffer fills). */
static int reply(struct i8042 *k, uint8_t v, uint8_t *buf, int cap)
{
	int n = 0;

	out8(k, DATA, v);
	while ((in8(k, STATUS) & 0x01) && n < cap)
		buf[n++] = in8(k, DATA);
	return n;
}

#define REPLY(k, v, ...) do {                                                   \
	static const uint8_t want_[] = { __VA_ARGS__ };                         \
	uint8_t got_[16];                                                       \
	int n_ = reply(k, v, got_, (int)sizeof(got_));                          \
	CHECK_EQ(n_, (int)sizeof(want_));                                       \
	for (int i_ = 0; i_ < n_ && i_ < (int)sizeof(want_); i_++)              \
		CHECK_EQ(got_[i_], want_[i_]);                                  \
} while (0)

static void set_ctr(struct i8042 *k, uint8_t ctr)
{
	out8(k, CMD, 0x60);
	out8(k, DATA, ctr);
}

static void test_kbd_commands(void)
{
	struct i8042 *k = mk(1);

	REPLY(k, 0xff, 0xfa, 0xaa);		/* reset: ACK, BAT passed */
	REPLY(k, 0xf2, 0xfa, 0xab, 0x41);	/* ID, translated */
	REPLY(k, 0xed, 0xfa);			/* LEDs + argument */
	REPLY(k, 0x07, 0xfa);
	REPLY(k, 0xf3, 0xfa);			/* typematic + argument */
	REPLY(k, 0x20, 0xfa);
	REPLY(k, 0xf0, 0xfa);			/* which set? 2, as translated */
	REPLY(k, 0x00, 0xfa, 0x41);
	REPLY(k, 0xf4, 0xfa);
	REPLY(k, 0xf5, 0xfa);
	REPLY(k, 0xf6, 0xfa);
	REPLY(k, 0xee, 0xee);			/* echo: no ACK */
	REPLY(k, 0xfe, 0xee);			/* resend the last byte */
	REPLY(k, 0xe8, 0xfe);			/* unknown commands */
	REPLY(k, 0x00, 0xfe);
	REPLY(k, 0xea, 0xfe);
	REPLY(k, 0xf7, 0xfa);			/* set-3 key types: accepted, no effect */
	REPLY(k, 0xfa, 0xfa);
	REPLY(k, 0xfb, 0xfa);			/* ... with a key list until the next command */
	REPLY(k, 0x1c, 0xfa);
	REPLY(k, 0x32, 0xfa);
	REPLY(k, 0xf4, 0xfa);
	REPLY(k, 0x1c, 0xfe);			/* the list ended */

	set_ctr(k, 0x05);			/* no translation: the keyboard's own codes */
	REPLY(k, 0xf2, 0xfa, 0xab, 0x83);
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x00, 0xfa, 0x02);
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x03, 0xfa);
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x00, 0xfa, 0x03);
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x04, 0xfe);			/* no set 4: resend, still waiting for a set */
	REPLY(k, 0x01, 0xfa);
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x00, 0xfa, 0x01);
	REPLY(k, 0xf6, 0xfa);			/* defaults: set 2 again */
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x00, 0xfa, 0x02);
	set_ctr(k, 0x45);
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x00, 0xfa, 0x41);
	CHECK_EQ(fk.stops, 0);
	i8042_destroy(k);
}

/* The order Linux's i8042 and atkbd drivers talk to the controller and keyboard at boot. */
static void test_kbd_linux_probe(void)
{
	static const uint8_t cad_set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	struct i8042 *k = mk(1);
	int ctr, edges;

	CHECK_EQ(command_result(k, 0xaa), 0x55);
	ctr = command_result(k, 0x20);
	CHECK_EQ(ctr & 0x41, 0x41);		/* translation on, keyboard IRQ on (edges so far) */
	CHECK_EQ(fk.line_changes, 4);
	set_ctr(k, (uint8_t)((ctr | 0x30) & ~0x03));	/* both ports off, no interrupts */
	fk.line_changes = 0;
	out8(k, CMD, 0xd3);			/* AUX loop: answered on the keyboard channel */
	out8(k, DATA, 0x5a);
	CHECK_EQ(in8(k, STATUS) & 0x21, 0x01);
	in8(k, DATA);
	CHECK_EQ(command_result(k, 0xa9), 0x02);
	CHECK_EQ(fk.line_changes, 0);
	set_ctr(k, (uint8_t)((ctr | 0x01) & ~0x10));	/* keyboard port on, with its IRQ */
	REPLY(k, 0xf2, 0xfa, 0xab, 0x41);
	REPLY(k, 0xf5, 0xfa);
	REPLY(k, 0xed, 0xfa);
	REPLY(k, 0x00, 0xfa);
	REPLY(k, 0xf3, 0xfa);
	REPLY(k, 0x00, 0xfa);
	REPLY(k, 0xf4, 0xfa);
	edges = fk.line_changes;
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	for (size_t i = 0; i < sizeof(cad_set1); i++) {
		CHECK_EQ(fk.last_level, 1);	/* each key raises the line anew */
		CHECK_EQ(in8(k, STATUS) & 0x21, 0x01);
		CHECK_EQ(in8(k, DATA), cad_set1[i]);
	}
	CHECK_EQ(fk.last_level, 0);
	CHECK_EQ(fk.line_changes - edges, 16);
	CHECK_EQ(in8(k, STATUS) & 0x01, 0);
	CHECK_EQ(i8042_keys_queued(k), sizeof(cad_set1));
	i8042_destroy(k);
}

static int drain(struct i8042 *k, uint8_t *buf, int cap)
{
	int n = 0;

	while ((in8(k, STATUS) & 0x01) && n < cap)
		buf[n++] = in8(k, DATA);
	return n;
}

static void test_ctrl_alt_del_sets(void)
{
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	static const uint8_t set3[] = { 0x11, 0x19, 0x64, 0xf0, 0x64, 0xf0, 0x19, 0xf0, 0x11 };
	struct i8042 *k = mk(-1);
	uint8_t got[40];
	int n;

	/* keys wait while the keyboard does not scan, and while its interface is disabled */
	REPLY(k, 0xf5, 0xfa);
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	CHECK_EQ(in8(k, STATUS) & 0x01, 0);
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);	/* 16 scancodes fit */
	CHECK_EQ(i8042_ctrl_alt_del(k), -EBUSY);
	out8(k, CMD, 0xad);
	out8(k, DATA, 0xf4);
	CHECK_EQ(in8(k, STATUS) & 0x01, 0);
	out8(k, CMD, 0xae);			/* the ACK first, then the keys */
	n = drain(k, got, (int)sizeof(got));
	CHECK_EQ(n, 17);
	CHECK_EQ(got[0], 0xfa);
	CHECK_EQ(got[1], 0x1d);
	CHECK_EQ(got[16], 0x9d);
	CHECK_EQ(i8042_keys_queued(k), 16);

	/* a reply overtakes typed keys still queued */
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	out8(k, DATA, 0xee);
	n = drain(k, got, (int)sizeof(got));
	CHECK_EQ(n, 9);
	CHECK_EQ(got[0], 0x1d);			/* already in the output buffer */
	CHECK_EQ(got[1], 0xee);
	CHECK_EQ(got[2], 0x38);

	set_ctr(k, 0x05);			/* set 2, untranslated */
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	CHECK_EQ(i8042_ctrl_alt_del(k), -EBUSY);	/* 11 + 11 > 16 */
	n = drain(k, got, (int)sizeof(got));
	CHECK_EQ(n, (int)sizeof(set2));
	CHECK(!memcmp(got, set2, sizeof(set2)));
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x03, 0xfa);
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	n = drain(k, got, (int)sizeof(got));
	CHECK_EQ(n, (int)sizeof(set3));
	CHECK(!memcmp(got, set3, sizeof(set3)));
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x01, 0xfa);
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	n = drain(k, got, (int)sizeof(got));
	CHECK_EQ(n, 8);
	CHECK_EQ(got[0], 0x1d);
	CHECK_EQ(fk.stops, 0);
	i8042_destroy(k);
}

static void test_kbd_hostile(void)
{
	struct i8042 *k = mk(1);
	uint8_t got[64];
	uint32_t seed = 7;
	int n;

	/* reads with nothing pending: the last byte again, no status, no edge */
	CHECK_EQ(in8(k, DATA), 0x00);
	REPLY(k, 0xee, 0xee);
	n = fk.line_changes;
	for (int i = 0; i < 100; i++)
		CHECK_EQ(in8(k, DATA), 0xee);
	CHECK_EQ(in8(k, STATUS) & 0x01, 0);
	CHECK_EQ(fk.line_changes, n);

	/* a command where an argument belongs replaces the waiting command */
	REPLY(k, 0xed, 0xfa);
	REPLY(k, 0xf2, 0xfa, 0xab, 0x41);
	REPLY(k, 0x05, 0xfe);			/* no longer an LED argument */
	REPLY(k, 0xf3, 0xfa);
	REPLY(k, 0xed, 0xfa);
	REPLY(k, 0xff, 0xfa, 0xaa);		/* reset in place of the LED byte */
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0xf0, 0xfa);			/* again: still one byte for one command */
	REPLY(k, 0x02, 0xfa);
	REPLY(k, 0xf3, 0xfa);
	REPLY(k, 0xe0, 0xfa);			/* out-of-range rate: masked, accepted */

	/* a flood of commands, never read: the output buffer keeps its byte, replies do not pile up */
	for (int i = 0; i < 100000; i++)
		out8(k, DATA, (uint8_t)(i % 3 ? 0xf2 : 0xed));
	n = drain(k, got, (int)sizeof(got));
	CHECK(n >= 1 && n <= 4);
	CHECK_EQ(got[0], 0xfa);			/* the first command's ACK */
	CHECK_EQ(in8(k, STATUS) & 0x01, 0);

	/* a flood of typed keys with the guest not reading */
	for (int i = 0; i < 1000; i++)
		i8042_ctrl_alt_del(k);
	n = drain(k, got, (int)sizeof(got));
	CHECK_EQ(n, 16);

	/* garbage on the data port, reads in between; then the keyboard still works */
	for (int i = 0; i < 100000; i++) {
		seed = seed * 1103515245u + 12345u;
		if (seed & 0x10000)
			out8(k, DATA, (uint8_t)(seed >> 24));
		else
			in8(k, (seed >> 20) & 1 ? DATA : STATUS);
	}
	drain(k, got, (int)sizeof(got));
	CHECK_EQ(in8(k, STATUS) & 0x01, 0);
	out8(k, DATA, 0xf4);			/* ends any waiting argument */
	drain(k, got, (int)sizeof(got));
	set_ctr(k, 0x45);
	REPLY(k, 0xff, 0xfa, 0xaa);
	REPLY(k, 0xf2, 0xfa, 0xab, 0x41);
	CHECK_EQ(fk.stops, 0);			/* keyboard bytes never reset the machine */
	i8042_destroy(k);
}

static void test_lifecycle(void)
{
	struct i8042 *k = mk(1), *k2;
	struct device *d = i8042_device(k), *d2;
	uint8_t a[256], b[256], bad[256];
	ssize_t len, len2;
	size_t used = 0;
	int rejected = 0, accepted = 0;

	CHECK_STR(d->ops->kind, "i8042");
	CHECK_STR(d->name, "i8042");
	/* a state worth saving: untranslated set 3, keys waiting, a reply half read, an argument due */
	set_ctr(k, 0x05);
	REPLY(k, 0xf5, 0xfa);
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x03, 0xfa);
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	out8(k, DATA, 0xf2);
	CHECK_EQ(in8(k, DATA), 0xfa);
	CHECK_EQ(fk.last_level, 1);		/* 0xab waits in the output buffer */
	len = device_save(d, a, sizeof(a));
	CHECK(len > 0);
	CHECK_EQ(device_save(d, a, 20), -ENOSPC);
	len = device_save(d, a, sizeof(a));

	/* restore into a fresh device: it carries on exactly where the first one was */
	k2 = mk(1);
	d2 = i8042_device(k2);
	CHECK_EQ(device_restore(d2, a, (size_t)len, &used), 0);
	CHECK_EQ((ssize_t)used, len);
	CHECK_EQ(fk.line_changes, 0);		/* restore does not drive the line */
	CHECK_EQ(in8(k2, DATA), 0xab);
	CHECK_EQ(in8(k2, DATA), 0x83);
	REPLY(k2, 0xf4, 0xfa, 0x11, 0x19, 0x64, 0xf0, 0x64, 0xf0, 0x19, 0xf0, 0x11);

	/* reset: power-on state, the line dropped, the typed keys gone */
	CHECK_EQ(i8042_ctrl_alt_del(k), -EBUSY);
	CHECK_EQ(in8(k, STATUS) & 0x01, 0x01);	/* its line is high (k2 shares the fake) */
	fk.line_changes = 0;
	d->ops->reset(d);
	CHECK_EQ(fk.line_changes, 1);
	CHECK_EQ(fk.last_level, 0);
	CHECK_EQ(in8(k, STATUS), 0x14);
	CHECK_EQ(command_result(k, 0x20), 0x65);
	REPLY(k, 0xf0, 0xfa);
	REPLY(k, 0x00, 0xfa, 0x41);
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	CHECK_EQ(i8042_ctrl_alt_del(k), 0);
	drain(k, bad, (int)sizeof(bad));

	/* hostile records: every byte of the state set to odd values; a rejected one leaves the device
	 * as it was, an accepted one saves back identically and leaves a working device */
	CHECK_EQ(d->ops->restore(d, a + (sizeof(a) - sizeof(a)), 0), -EINVAL);
	len2 = d->ops->save(d, b, sizeof(b));
	CHECK(len2 > 0 && len2 < (ssize_t)sizeof(b));
	CHECK_EQ(d->ops->restore(d, b, (size_t)len2 + 1), -EINVAL);
	CHECK_EQ(d->ops->restore(d, b, (size_t)len2 - 1), -EINVAL);
	for (ssize_t i = 0; i < len2; i++) {
		static const uint8_t vals[] = { 0xff, 0x80, 0x41, 0x10, 0x04, 0x02, 0x00 };

		for (size_t j = 0; j < sizeof(vals); j++) {
			uint8_t now[256], back[256];
			uint8_t junk[64];

			CHECK_EQ(d2->ops->restore(d2, b, (size_t)len2), 0);
			memcpy(bad, b, (size_t)len2);
			bad[i] = vals[j];
			if (d2->ops->restore(d2, bad, (size_t)len2)) {
				rejected++;
				CHECK_EQ(d2->ops->save(d2, now, sizeof(now)), len2);
				CHECK(!memcmp(now, b, (size_t)len2));
				continue;
			}
			accepted++;
			CHECK_EQ(d2->ops->save(d2, back, sizeof(back)), len2);
			CHECK(!memcmp(back, bad, (size_t)len2));
			CHECK(drain(k2, junk, (int)sizeof(junk)) <= 21);
			i8042_ctrl_alt_del(k2);
			set_ctr(k2, 0x45);
			out8(k2, DATA, 0xf4);
			CHECK(drain(k2, junk, (int)sizeof(junk)) <= 21);
			REPLY(k2, 0xff, 0xfa, 0xaa);
		}
	}
	CHECK(rejected > 10);
	CHECK(accepted > 10);
	memset(bad, 0xff, sizeof(bad));
	CHECK_EQ(d->ops->restore(d, bad, (size_t)len2), -EINVAL);
	CHECK_EQ(device_restore(d, a, (size_t)len - 1, &used), -EINVAL);
	i8042_destroy(k2);
	d->ops->destroy(d);			/* frees k */
}

static void test_exit_codes(void)
{
	struct test_exit *t = NULL;
	uint64_t v = 0;

	fake_vmm_init(&fk, &fake_ops);
	CHECK_EQ(test_exit_create(&t, &fake_ops), 0);
	test_exit_bus_ops.read(t, 0, &v, 8);
	CHECK_EQ(v, ~0ULL);
	test_exit_bus_ops.write(t, 0, "\x2a", 1);
	CHECK_EQ(fk.stops, 1);
	CHECK_EQ(fk.why, VM_STOP_TEST_EXIT);
	CHECK_EQ(fk.code, 0x2a);
	test_exit_bus_ops.write(t, 0, "\x34\x12", 2);
	CHECK_EQ(fk.code, 0x1234);
	test_exit_bus_ops.write(t, 1, "\x78\x56\x34\x12", 4);
	CHECK_EQ(fk.code, 0x12345678);
	test_exit_bus_ops.write(t, 0, "\xff\xff\xff\xff\x11\x22\x33\x44", 8);
	CHECK_EQ((uint32_t)fk.code, 0xffffffffu);	/* low 4 bytes */
	test_exit_bus_ops.write(t, 0, "", 0);
	CHECK_EQ(fk.code, 0);
	CHECK_EQ(fk.stops, 5);
	test_exit_destroy(t);
	/* no vmm: nothing to ask, nothing breaks */
	CHECK_EQ(test_exit_create(&t, NULL), 0);
	test_exit_bus_ops.write(t, 0, "\x01", 1);
	test_exit_destroy(t);
	CHECK_EQ(fk.stops, 5);
}

int main(void)
{
	RUN(test_status_and_port_b);
	RUN(test_linux_probe);
	RUN(test_reset);
	RUN(test_kbd_irq);
	RUN(test_i8042_hostile);
	RUN(test_kbd_commands);
	RUN(test_kbd_linux_probe);
	RUN(test_ctrl_alt_del_sets);
	RUN(test_kbd_hostile);
	RUN(test_lifecycle);
	RUN(test_exit_codes);
	return test_summary();
}
