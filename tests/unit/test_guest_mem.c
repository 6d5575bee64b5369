/* guest_mem: the single guest-address check. Region edges, overflow, spanning copies. */
#include <stdlib.h>
#include <errno.h>

#include "core/guest_mem.h"
#include "test.h"

static struct guest_mem gm;
static uint8_t low[0x10000], high[0x1000];

static void setup(void)
{
	memset(&gm, 0, sizeof(gm));
	CHECK_EQ(gm_add_region(&gm, 0, sizeof(low), low), 0);
	CHECK_EQ(gm_add_region(&gm, 0x10000, sizeof(high), high), 0);	/* adjacent */
}

static void test_ptr_bounds(void)
{
	setup();
	CHECK(gm_ptr(&gm, 0, 1) == low);
	CHECK(gm_ptr(&gm, 0xffff, 1) == low + 0xffff);
	CHECK(gm_ptr(&gm, 0xffff, 2) == NULL);		/* crosses regions: not one pointer */
	CHECK(gm_ptr(&gm, 0x10000, 0x1000) == high);
	CHECK(gm_ptr(&gm, 0x10000, 0x1001) == NULL);
	CHECK(gm_ptr(&gm, 0x11000, 1) == NULL);		/* just past the end */
	CHECK(gm_ptr(&gm, 0x10fff, 0) == high + 0xfff);	/* len 0 treated as 1 */
	CHECK(gm_ptr(&gm, UINT64_MAX, 1) == NULL);
	CHECK(gm_ptr(&gm, 0x100, SIZE_MAX) == NULL);	/* overflow of gpa + len */
	CHECK(gm_ptr(&gm, 0xfff0, (size_t)-0xfff0) == NULL);
}

static void test_add_overlap(void)
{
	uint8_t buf[16];

	setup();
	CHECK_EQ(gm_add_region(&gm, 0x8000, 16, buf), -EEXIST);
	CHECK_EQ(gm_add_region(&gm, 0x10fff, 16, buf), -EEXIST);
	CHECK_EQ(gm_add_region(&gm, UINT64_MAX - 4, 16, buf), -EINVAL);
	CHECK_EQ(gm_add_region(&gm, 0x20000, 0, buf), -EINVAL);
	CHECK_EQ(gm.ram_bytes, sizeof(low) + sizeof(high));
}

static void test_read_write_span(void)
{
	uint8_t in[32], out[32];

	setup();
	for (int i = 0; i < 32; i++)
		in[i] = (uint8_t)i;
	CHECK_EQ(gm_write(&gm, 0xfff0, in, 32), 0);		/* spans the two regions */
	CHECK_EQ(low[0xffff], 15);
	CHECK_EQ(high[0], 16);
	CHECK_EQ(gm_read(&gm, out, 0xfff0, 32), 0);
	CHECK(memcmp(in, out, 32) == 0);
	CHECK_EQ(gm_write(&gm, 0x10ff0, in, 32), -EFAULT);	/* runs off the end */
	CHECK_EQ(gm_read(&gm, out, UINT64_MAX - 8, 32), -EFAULT);
	CHECK_EQ(gm_read(&gm, out, 0x50000, 1), -EFAULT);
	CHECK_EQ(gm_span(&gm, 0x10ff0), 0x10);
	CHECK_EQ(gm_span(&gm, 0x20000), 0);
	CHECK_EQ(gm_low_end(&gm), 0x11000);
}

static void test_alloc_ram_hole(void)
{
	struct guest_mem g = { 0 };

	CHECK_EQ(gm_alloc_ram(&g, 64 << 20, 32 << 20), 0);	/* 32M low, 32M above 4G */
	CHECK_EQ(g.nr, 2);
	CHECK_EQ(g.r[0].len, 32 << 20);
	CHECK_EQ(g.r[1].gpa, 1ULL << 32);
	CHECK(gm_ptr(&g, (32 << 20) - 1, 1) != NULL);
	CHECK(gm_ptr(&g, 32 << 20, 1) == NULL);			/* the hole */
	CHECK(gm_ptr(&g, (1ULL << 32) + (32 << 20) - 4, 4) != NULL);
	gm_free(&g);
	CHECK_EQ(g.nr, 0);
	CHECK_EQ(gm_alloc_ram(&g, 0, 1 << 20), -EINVAL);
}

int main(void)
{
	RUN(test_ptr_bounds);
	RUN(test_add_overlap);
	RUN(test_read_write_span);
	RUN(test_alloc_ram_hole);
	return test_summary();
}
