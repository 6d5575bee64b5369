/* Unit tests for the CMOS/RTC: BCD/binary/12-hour time from an injected clock, the SET protocol and
 * guest time offsets, index masking, the memory-size bytes and checksum, hostile accesses. */
#include <stdint.h>
#include <time.h>

#include "dev/cmos.h"
#include "log.h"
#include "port_io.h"
#include "test.h"

static time_t clock_now;

static time_t fake_clock(void)
{
	return clock_now;
}

static struct cmos *mk(uint64_t below, uint64_t above, unsigned cpus)
{
	struct cmos *c = NULL;
	struct cmos_config cfg = { .ram_below_4g = below, .ram_above_4g = above, .nr_cpus = cpus,
				   .now = fake_clock };

	CHECK_EQ(cmos_create(&c, &cfg), 0);
	return c;
}

static uint8_t rd(struct cmos *c, uint8_t idx)
{
	uint8_t v = 0;

	cmos_bus_ops.write(c, 0, &idx, 1);
	cmos_bus_ops.read(c, 1, &v, 1);
	return v;
}

static void wr(struct cmos *c, uint8_t idx, uint8_t v)
{
	cmos_bus_ops.write(c, 0, &idx, 1);
	cmos_bus_ops.write(c, 1, &v, 1);
}

static time_t utc(int y, int mon, int d, int h, int m, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = m, .tm_sec = s };

	return timegm(&tm);
}

static void test_bcd_time(void)
{
	struct cmos *c;

	clock_now = utc(2024, 2, 29, 13, 45, 7);	/* a Thursday */
	c = mk(64 << 20, 0, 1);
	CHECK_EQ(rd(c, 0x0b), 0x02);
	CHECK_EQ(rd(c, 0x00), 0x07);
	CHECK_EQ(rd(c, 0x02), 0x45);
	CHECK_EQ(rd(c, 0x04), 0x13);
	CHECK_EQ(rd(c, 0x06), 0x05);
	CHECK_EQ(rd(c, 0x07), 0x29);
	CHECK_EQ(rd(c, 0x08), 0x02);
	CHECK_EQ(rd(c, 0x09), 0x24);
	CHECK_EQ(rd(c, 0x32), 0x20);
	CHECK_EQ(rd(c, 0x0a) & 0x80, 0);		/* never update-in-progress */
	CHECK_EQ(rd(c, 0x0c), 0);
	CHECK_EQ(rd(c, 0x0d), 0x80);
	clock_now += 61;
	CHECK_EQ(rd(c, 0x00), 0x08);
	CHECK_EQ(rd(c, 0x02), 0x46);
	cmos_destroy(c);
}

static void test_binary_and_12h(void)
{
	struct cmos *c;

	clock_now = utc(2024, 2, 29, 13, 45, 7);
	c = mk(64 << 20, 0, 1);
	wr(c, 0x0b, 0x06);				/* binary, 24h */
	CHECK_EQ(rd(c, 0x00), 7);
	CHECK_EQ(rd(c, 0x02), 45);
	CHECK_EQ(rd(c, 0x04), 13);
	CHECK_EQ(rd(c, 0x09), 24);
	CHECK_EQ(rd(c, 0x32), 20);
	wr(c, 0x0b, 0x04);				/* binary, 12h */
	CHECK_EQ(rd(c, 0x04), 0x81);
	wr(c, 0x0b, 0x00);				/* BCD, 12h */
	CHECK_EQ(rd(c, 0x04), 0x81);
	clock_now = utc(2024, 3, 1, 0, 30, 0);
	CHECK_EQ(rd(c, 0x04), 0x12);			/* 12 AM */
	clock_now = utc(2024, 3, 1, 12, 30, 0);
	CHECK_EQ(rd(c, 0x04), 0x92);			/* 12 PM */
	cmos_destroy(c);
}

static void test_guest_sets_time(void)
{
	struct cmos *c;

	clock_now = utc(2024, 2, 29, 13, 45, 7);
	c = mk(64 << 20, 0, 1);
	wr(c, 0x0b, 0x82);				/* SET: clock frozen for update */
	CHECK_EQ(rd(c, 0x00), 0x07);
	wr(c, 0x00, 0x58);
	wr(c, 0x02, 0x59);
	wr(c, 0x04, 0x23);
	wr(c, 0x07, 0x31);
	wr(c, 0x08, 0x12);
	wr(c, 0x09, 0x99);
	wr(c, 0x32, 0x19);
	clock_now += 100;
	CHECK_EQ(rd(c, 0x00), 0x58);			/* held while SET */
	wr(c, 0x0b, 0x02);
	CHECK_EQ(rd(c, 0x09), 0x99);
	CHECK_EQ(rd(c, 0x00), 0x58);
	clock_now += 2;
	CHECK_EQ(rd(c, 0x00), 0x00);
	CHECK_EQ(rd(c, 0x02), 0x00);
	CHECK_EQ(rd(c, 0x04), 0x00);
	CHECK_EQ(rd(c, 0x07), 0x01);
	CHECK_EQ(rd(c, 0x08), 0x01);
	CHECK_EQ(rd(c, 0x09), 0x00);
	CHECK_EQ(rd(c, 0x32), 0x20);
	CHECK_EQ(rd(c, 0x06), 0x07);			/* 2000-01-01 was a Saturday */
	/* a single write while running adjusts that field only */
	wr(c, 0x02, 0x30);
	CHECK_EQ(rd(c, 0x02), 0x30);
	CHECK_EQ(rd(c, 0x00), 0x00);
	CHECK_EQ(rd(c, 0x09), 0x00);
	/* garbage (not BCD) is refused and the clock keeps its time */
	wr(c, 0x0b, 0x82);
	wr(c, 0x00, 0xaa);
	wr(c, 0x0b, 0x02);
	CHECK_EQ(rd(c, 0x00), 0x00);
	CHECK_EQ(rd(c, 0x02), 0x30);
	wr(c, 0x04, 0x99);				/* hour 99 */
	CHECK_EQ(rd(c, 0x04), 0x00);
	cmos_destroy(c);
}

static void test_index_and_ram(void)
{
	struct cmos *c;

	clock_now = utc(2024, 2, 29, 13, 45, 7);
	c = mk(64 << 20, 0, 1);
	CHECK_EQ(rd(c, 0x80), 0x07);			/* NMI-disable bit ignored */
	wr(c, 0xc0, 0x5a);
	CHECK_EQ(rd(c, 0x40), 0x5a);
	wr(c, 0x7f, 0xa5);
	CHECK_EQ(rd(c, 0xff), 0xa5);
	wr(c, 0x01, 0x33);				/* alarm seconds: plain RAM */
	CHECK_EQ(rd(c, 0x01), 0x33);
	wr(c, 0x0a, 0xff);
	CHECK_EQ(rd(c, 0x0a), 0x7f);
	wr(c, 0x0c, 0xff);
	wr(c, 0x0d, 0x00);
	CHECK_EQ(rd(c, 0x0c), 0);
	CHECK_EQ(rd(c, 0x0d), 0x80);
	cmos_destroy(c);
}

static unsigned rd16(struct cmos *c, uint8_t lo)
{
	return rd(c, lo) | (unsigned)rd(c, (uint8_t)(lo + 1)) << 8;
}

static void test_memory_bytes(void)
{
	struct cmos *c = mk(3ULL << 30, 2ULL << 30, 4);
	unsigned sum = 0;

	CHECK_EQ(rd16(c, 0x15), 640);
	CHECK_EQ(rd16(c, 0x17), 0xffff);
	CHECK_EQ(rd16(c, 0x30), 0xffff);
	CHECK_EQ(rd16(c, 0x34), ((3ULL << 30) - (16 << 20)) >> 16);
	CHECK_EQ(rd(c, 0x5b), 0x00);
	CHECK_EQ(rd(c, 0x5c), 0x80);
	CHECK_EQ(rd(c, 0x5d), 0x00);
	CHECK_EQ(rd(c, 0x5f), 3);
	for (uint8_t r = 0x10; r < 0x2e; r++)
		sum += rd(c, r);
	CHECK_EQ((unsigned)rd(c, 0x2e) << 8 | rd(c, 0x2f), sum & 0xffff);
	cmos_destroy(c);

	c = mk(8 << 20, 0, 0);
	CHECK_EQ(rd16(c, 0x17), (8 - 1) * 1024);
	CHECK_EQ(rd16(c, 0x34), 0);
	CHECK_EQ(rd(c, 0x5b) | rd(c, 0x5c) | rd(c, 0x5d), 0);
	CHECK_EQ(rd(c, 0x5f), 0);
	cmos_destroy(c);

	c = mk(4ULL << 30, 1ULL << 40, 1);		/* 4G-16M fits; 1 TiB clamps */
	CHECK_EQ(rd16(c, 0x34), 0xff00);
	CHECK_EQ(rd(c, 0x5b) & rd(c, 0x5c) & rd(c, 0x5d), 0xff);
	cmos_destroy(c);

	c = mk(1ULL << 40, 0, 1);			/* nonsense below-4G size clamps too */
	CHECK_EQ(rd16(c, 0x34), 0xffff);
	CHECK_EQ(rd16(c, 0x17), 0xffff);
	cmos_destroy(c);
}

/* The boot-device bytes SeaBIOS reads without fw_cfg: first/second at 0x3d, third at 0x38's top. */
static void test_boot_bytes(void)
{
	struct cmos_config cfg = { .ram_below_4g = 64 << 20, .now = fake_clock,
				   .boot_order = CMOS_BOOT_DISK | CMOS_BOOT_FLOPPY << 4 | CMOS_BOOT_CDROM << 8 };
	struct cmos *c = NULL;

	CHECK_EQ(cmos_create(&c, &cfg), 0);
	CHECK_EQ(rd(c, 0x3d), 0x12);
	CHECK_EQ(rd(c, 0x38), 0x30);
	cmos_destroy(c);
	c = mk(64 << 20, 0, 1);			/* none given: both bytes zero */
	CHECK_EQ(rd(c, 0x3d), 0);
	CHECK_EQ(rd(c, 0x38), 0);
	cmos_destroy(c);
}

static void test_cmos_hostile(void)
{
	struct cmos *c;
	uint16_t w;
	uint32_t v = 0, seed = 7;
	uint64_t big = 0;

	clock_now = utc(2024, 2, 29, 13, 45, 7);
	c = mk(64 << 20, 0, 1);
	w = 0x40 | 0x77 << 8;				/* outw 0x70: index then data */
	cmos_bus_ops.write(c, 0, &w, 2);
	CHECK_EQ(rd(c, 0x40), 0x77);
	cmos_bus_ops.read(c, 0, &v, 2);			/* index port reads all-ones */
	CHECK_EQ(v, 0x77ff);
	cmos_bus_ops.read(c, 1, &big, 8);
	CHECK_EQ(big >> 8, 0xffffffffffffffULL);
	cmos_bus_ops.write(c, ~0ULL, "\x00\x00", 2);	/* must not wrap to the index port */
	CHECK_EQ(rd(c, 0x40), 0x77);
	for (int i = 0; i < 100000; i++) {
		uint8_t d[4];

		port_random_access(&cmos_bus_ops, c, &seed, 4, d);
		if (i % 997 == 0)
			clock_now += seed % 100000;
	}
	wr(c, 0x0b, 0x02);
	CHECK_EQ(rd(c, 0x0d), 0x80);
	CHECK(rd(c, 0x02) <= 0x59 && (rd(c, 0x02) & 0x0f) <= 9);
	cmos_destroy(c);

	/* the real clock: at least the century is right */
	{
		struct cmos_config cfg = { .ram_below_4g = 1 << 20 };

		CHECK_EQ(cmos_create(&c, &cfg), 0);
		CHECK_EQ(rd(c, 0x32), 0x20);
		cmos_destroy(c);
	}
}

int main(void)
{
	log_threshold = LOG_ERR;	/* the hostile test makes the guest-warning path noisy */
	RUN(test_bcd_time);
	RUN(test_binary_and_12h);
	RUN(test_guest_sets_time);
	RUN(test_index_and_ram);
	RUN(test_memory_bytes);
	RUN(test_boot_bytes);
	RUN(test_cmos_hostile);
	return test_summary();
}
