/* bus: dispatch with relative offsets, overlap rejection, unclaimed all-ones, straddling accesses. */
#include <errno.h>

#include "core/bus.h"
#include "test.h"

struct fake {
	uint64_t last_off;
	uint32_t last_len, writes, reads;
	uint8_t last_val;
};

static void f_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct fake *f = dev;

	f->reads++;
	f->last_off = off;
	memset(data, 0x5a, len);
}

static void f_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct fake *f = dev;

	f->writes++;
	f->last_off = off;
	f->last_len = len;
	f->last_val = *(const uint8_t *)data;
}

static const struct bus_ops fops = { .read = f_read, .write = f_write };

static void test_dispatch(void)
{
	struct bus b;
	struct fake a = { 0 }, c = { 0 };
	uint32_t v = 0;
	uint8_t byte = 0x77;

	bus_init(&b, "t");
	CHECK_EQ(bus_add(&b, 0x3f8, 8, &fops, &a, "uart"), 0);
	CHECK_EQ(bus_add(&b, 0x60, 1, &fops, &c, "kbd"), 0);
	CHECK_EQ(bus_write(&b, 0x3fb, &byte, 1), 0);
	CHECK_EQ(a.last_off, 3);
	CHECK_EQ(a.last_val, 0x77);
	CHECK_EQ(bus_read(&b, 0x60, &v, 1), 0);
	CHECK_EQ(v & 0xff, 0x5a);
	CHECK_EQ(c.last_off, 0);
	v = 0;
	CHECK_EQ(bus_read(&b, 0x1234, &v, 4), -ENOENT);
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(bus_write(&b, 0x1234, &byte, 1), -ENOENT);
	/* An access straddling the end of a range is not delivered. */
	CHECK_EQ(bus_read(&b, 0x3ff, &v, 2), -ENOENT);
	CHECK_EQ(bus_read(&b, 0x3f7, &v, 2), -ENOENT);
	CHECK_EQ(a.reads, 0);
	bus_free(&b);
}

static void test_overlap_and_freeze(void)
{
	struct bus b;
	struct fake a = { 0 };

	bus_init(&b, "t");
	CHECK_EQ(bus_add(&b, 0x100, 0x10, &fops, &a, "a"), 0);
	CHECK_EQ(bus_add(&b, 0x10f, 1, &fops, &a, "b"), -EEXIST);
	CHECK_EQ(bus_add(&b, 0xf0, 0x11, &fops, &a, "c"), -EEXIST);
	CHECK_EQ(bus_add(&b, 0xf0, 0x10, &fops, &a, "d"), 0);		/* adjacent below */
	CHECK_EQ(bus_add(&b, 0x110, 1, &fops, &a, "e"), 0);		/* adjacent above */
	CHECK_EQ(bus_add(&b, 0x0, 0, &fops, &a, "f"), -EINVAL);
	CHECK_EQ(bus_add(&b, UINT64_MAX, 2, &fops, &a, "g"), -EINVAL);	/* wraps */
	CHECK_EQ(bus_add(&b, UINT64_MAX, 1, &fops, &a, "h"), 0);	/* last byte is fine */
	CHECK_EQ(b.nr, 4);
	for (int i = 1; i < b.nr; i++)
		CHECK(b.r[i - 1].base < b.r[i].base);
	bus_freeze(&b);
	CHECK_EQ(bus_add(&b, 0x1000, 1, &fops, &a, "late"), -EPERM);
	CHECK(bus_find(&b, UINT64_MAX, 1) != NULL);
	CHECK(bus_find(&b, 0x105, 0) == NULL);
	bus_free(&b);
}

static void test_many_ranges(void)
{
	struct bus b;
	struct fake f[64];
	uint8_t x;

	memset(f, 0, sizeof(f));
	bus_init(&b, "t");
	for (int i = 63; i >= 0; i--)	/* reverse order: insertion must keep the table sorted */
		CHECK_EQ(bus_add(&b, (uint64_t)i * 0x100, 0x80, &fops, &f[i], "r"), 0);
	for (int i = 0; i < 64; i++) {
		bus_read(&b, (uint64_t)i * 0x100 + 0x7f, &x, 1);
		CHECK_EQ(f[i].reads, 1);
		CHECK_EQ(f[i].last_off, 0x7f);
		CHECK_EQ(bus_read(&b, (uint64_t)i * 0x100 + 0x80, &x, 1), -ENOENT);
	}
	bus_free(&b);
}

/* The exit path's cached lookups: same answers as bus_read/bus_write, hits and misses remembered,
 * nothing stale once the bus changes (a rebuilt bus at the same address included). */
static void test_cached_access(void)
{
	struct bus b;
	struct bus_cache c = { 0 };
	struct fake a = { 0 }, d = { 0 };
	uint8_t byte = 0x42;
	uint32_t v = 0;

	bus_init(&b, "t");
	CHECK_EQ(bus_add(&b, 0x100, 8, &fops, &a, "a"), 0);
	CHECK_EQ(bus_add(&b, 0x200, 4, &fops, &d, "d"), 0);
	bus_freeze(&b);
	CHECK_EQ(bus_access(&b, &c, 0x103, &byte, 1, true), 0);
	CHECK_EQ(a.writes, 1);
	CHECK_EQ(a.last_off, 3);
	CHECK(c.hit != NULL);
	CHECK_EQ(bus_access(&b, &c, 0x104, &v, 4, false), 0);	/* a hit on the cached range */
	CHECK_EQ(a.reads, 1);
	CHECK_EQ(a.last_off, 4);
	CHECK_EQ(v, 0x5a5a5a5a);
	CHECK_EQ(bus_access(&b, &c, 0x106, &v, 4, false), -ENOENT);	/* straddles the end: unclaimed */
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(a.reads, 1);
	CHECK_EQ(bus_access(&b, &c, 0x106, &v, 4, true), -ENOENT);	/* the remembered miss */
	CHECK_EQ(a.writes, 1);
	CHECK_EQ(bus_access(&b, &c, 0x106, &v, 2, false), 0);		/* same address, fits */
	CHECK_EQ(a.reads, 2);
	CHECK_EQ(bus_access(&b, &c, 0x201, &byte, 1, true), 0);	/* another range */
	CHECK_EQ(d.writes, 1);
	CHECK_EQ(d.last_off, 1);
	CHECK_EQ(bus_access(&b, &c, 0x1234, &v, 4, false), -ENOENT);
	CHECK_EQ(bus_access(&b, &c, 0x1234, &v, 4, false), -ENOENT);
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(bus_access(&b, &c, 0x100, &v, 0, false), -ENOENT);	/* empty access */
	bus_free(&b);

	/* the same struct rebuilt with other ranges: the old cache must not answer */
	bus_init(&b, "t2");
	CHECK_EQ(bus_add(&b, 0x1234, 4, &fops, &d, "d"), 0);
	CHECK_EQ(bus_access(&b, &c, 0x1234, &v, 4, false), 0);
	CHECK_EQ(d.reads, 1);
	CHECK_EQ(bus_access(&b, &c, 0x103, &byte, 1, true), -ENOENT);
	CHECK_EQ(a.writes, 1);
	CHECK_EQ(bus_add(&b, 0x100, 8, &fops, &a, "a"), 0);		/* an added range is seen */
	CHECK_EQ(bus_access(&b, &c, 0x103, &byte, 1, true), 0);
	CHECK_EQ(a.writes, 2);
	bus_free(&b);
}

int main(void)
{
	RUN(test_dispatch);
	RUN(test_overlap_and_freeze);
	RUN(test_many_ranges);
	RUN(test_cached_access);
	return test_summary();
}
