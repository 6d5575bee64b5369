/* Unit tests for the i8042 controller (Linux's probe sequence, reset paths, port B, keyboard IRQ)
 * and the test-exit port (codes of every width), including hostile widths, offsets and commands. */
#include <stdint.h>

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
	/* a byte for the absent keyboard: timeout status and 0xff */
	out8(k, DATA, 0xf2);
	CHECK_EQ(in8(k, STATUS) & 0x41, 0x41);
	CHECK_EQ(in8(k, DATA), 0xff);
	CHECK_EQ(in8(k, STATUS) & 0x41, 0);
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
	out8(k, DATA, 0xf2);
	CHECK_EQ(fk.line_changes, 0);
	in8(k, DATA);
	out8(k, CMD, 0x60);
	out8(k, DATA, 0x01);
	out8(k, DATA, 0xf2);
	CHECK_EQ(fk.last_level, 1);
	CHECK_EQ(fk.last_gsi, 1);
	in8(k, STATUS);
	CHECK_EQ(fk.line_changes, 1);
	in8(k, DATA);
	CHECK_EQ(fk.last_level, 0);
	CHECK_EQ(fk.line_changes, 2);
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
	RUN(test_exit_codes);
	return test_summary();
}
