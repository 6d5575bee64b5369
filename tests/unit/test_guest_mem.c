/* guest_mem: the single guest-address check. Region edges, overflow, spanning copies. */
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

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

/* Shared RAM: one memfd behind both regions at their file offsets, so a second mapping of the fd (a
 * vhost-user back-end's) sees what the guest writes, in either region. */
static void test_alloc_shared(void)
{
	struct guest_mem g = { 0 };
	uint8_t buf[4] = { 0 };
	int fd;

	CHECK_EQ(gm_alloc_ram_flags(&g, 64 << 20, 32 << 20, GM_SHARED), 0);
	CHECK_EQ(g.nr, 2);
	CHECK(g.r[0].fd >= 0);
	CHECK_EQ(g.r[1].fd, g.r[0].fd);
	CHECK_EQ(g.r[0].fd_offset, 0);
	CHECK_EQ(g.r[1].fd_offset, 32 << 20);
	CHECK_EQ(gm_write(&g, 0x1000, "ab", 2), 0);
	CHECK_EQ(gm_write(&g, (1ULL << 32) + 0x10, "cd", 2), 0);
	CHECK_EQ(pread(g.r[0].fd, buf, 2, 0x1000), 2);
	CHECK(!memcmp(buf, "ab", 2));
	CHECK_EQ(pread(g.r[0].fd, buf, 2, (32 << 20) + 0x10), 2);
	CHECK(!memcmp(buf, "cd", 2));
	fd = g.r[0].fd;
	gm_free(&g);
	CHECK_EQ(fcntl(fd, F_GETFD), -1);	/* closed once, by gm_free */
	/* private RAM has no fd to share */
	CHECK_EQ(gm_alloc_ram(&g, 16 << 20, 32 << 20), 0);
	CHECK_EQ(g.r[0].fd, -1);
	gm_free(&g);
	CHECK_EQ(gm_add_region(&g, 0, sizeof(buf), buf), 0);
	CHECK_EQ(g.r[0].fd, -1);
}

/* Huge pages: a size that is not a whole number of them is refused; a host with too few free ones
 * gets -ENOMEM before anything is mapped. */
static void test_alloc_hugepages(void)
{
	struct guest_mem g = { 0 };
	int ret;

	CHECK_EQ(gm_alloc_ram_flags(&g, (16 << 20) + 4096, 1ULL << 32, GM_HUGEPAGES), -EINVAL);
	CHECK_EQ(g.nr, 0);
	ret = gm_alloc_ram_flags(&g, 16 << 20, 1ULL << 32, GM_HUGEPAGES);
	if (gm_hugepages_free() < (16 << 20)) {
		CHECK_EQ(ret, -ENOMEM);
		CHECK_EQ(g.nr, 0);
	} else {
		CHECK_EQ(ret, 0);
		CHECK(g.r[0].fd >= 0);
	}
	gm_free(&g);
}

int main(void)
{
	RUN(test_ptr_bounds);
	RUN(test_add_overlap);
	RUN(test_read_write_span);
	RUN(test_alloc_ram_hole);
	RUN(test_alloc_shared);
	RUN(test_alloc_hugepages);
	return test_summary();
}
