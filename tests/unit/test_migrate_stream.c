/* The live-migration stream (core/migrate_stream.c) against hostile bytes: a round trip into a
 * guest_mem of two regions with a hole; every truncation and every single-byte flip refused with a
 * message and no state handed back; pages outside RAM or unaligned refused before their data is
 * read; another RAM size refused at the hello; bad addresses. --migrate-disks' DISK records: a
 * round trip into two fake images, hostile disk numbers, offsets, lengths (each refused before
 * anything is written), truncations and flips of a stream with disk blocks. No KVM, no network
 * (a socketpair). */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/guest_mem.h"
#include "core/migrate_stream.h"
#include "test.h"

#define RAM 65536

static uint8_t ram0[RAM] __attribute__((aligned(4096))), ram1[RAM] __attribute__((aligned(4096)));
static struct guest_mem gm;
static uint8_t stream[128 << 10];
static size_t stream_len;

struct memsrc {
	const uint8_t *p;
	size_t len, at;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct memsrc *m = ctx;
	size_t n = len < m->len - m->at ? len : m->len - m->at;

	memcpy(buf, m->p + m->at, n);
	m->at += n;
	return (ssize_t)n;
}

/* extra_gpa: one more page record at that address (~0: none). */
static void build(uint64_t ram_bytes, uint64_t extra_gpa)
{
	uint8_t page[MIG_PAGE], zero[MIG_PAGE] = { 0 }, state[200];
	struct mig_out o;
	int sv[2];
	ssize_t n;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < sizeof(state); i++)
		state[i] = (uint8_t)(i ^ 0x5a);
	CHECK_EQ(mig_out_init(&o, sv[0], 0), 0);
	mig_out_hello(&o, ram_bytes, 1);
	mig_out_page(&o, 0, page);
	mig_out_page(&o, 8192, zero);
	mig_out_page(&o, (1 << 20) + 4096, page);
	if (extra_gpa != ~0ULL)
		mig_out_page(&o, extra_gpa, page);
	mig_out_state(&o, state, sizeof(state));
	CHECK_EQ(mig_out_flush(&o), 0);
	mig_out_free(&o);
	shutdown(sv[0], SHUT_WR);
	stream_len = 0;
	while ((n = read(sv[1], stream + stream_len, sizeof(stream) - stream_len)) > 0)
		stream_len += (size_t)n;
	close(sv[0]);
	close(sv[1]);
}

static int receive(size_t len, uint8_t **state, size_t *slen, char *err, size_t errlen)
{
	struct memsrc m = { stream, len, 0 };
	struct mig_in_stats st;

	return mig_receive(mem_read, &m, &gm, 1, NULL, state, slen, &st, err, errlen);
}

static void test_roundtrip(void)
{
	uint8_t *state = NULL;
	size_t slen = 0;
	char err[256] = "";

	build(2 * RAM, ~0ULL);
	memset(ram0, 0xff, RAM);
	memset(ram1, 0xff, RAM);
	CHECK_EQ(receive(stream_len, &state, &slen, err, sizeof(err)), 0);
	CHECK_EQ(slen, 200);
	CHECK(state && state[7] == (7 ^ 0x5a));
	CHECK_EQ(ram0[100], (uint8_t)(100 * 13 + 5));
	CHECK_EQ(ram0[8192 + 17], 0);		/* the zero page */
	CHECK_EQ(ram0[4096], 0xff);		/* never sent: untouched */
	CHECK_EQ(ram1[4096 + 100], (uint8_t)(100 * 13 + 5));
	free(state);
}

static void test_truncations(void)
{
	uint8_t *state;
	size_t slen, bad = 0;
	char err[256];

	build(2 * RAM, ~0ULL);
	for (size_t len = 0; len < stream_len; len++) {
		err[0] = '\0';
		state = NULL;
		if (receive(len, &state, &slen, err, sizeof(err)) == 0 || state || !err[0])
			bad++;
	}
	CHECK_EQ(bad, 0);
}

static void test_flips(void)
{
	uint8_t *state;
	size_t slen, bad = 0;
	char err[256];

	build(2 * RAM, ~0ULL);
	for (size_t i = 0; i < stream_len; i++) {
		stream[i] ^= 0x10;
		err[0] = '\0';
		state = NULL;
		if (receive(stream_len, &state, &slen, err, sizeof(err)) == 0 || state || !err[0])
			bad++;
		stream[i] ^= 0x10;
	}
	CHECK_EQ(bad, 0);
}

static void test_bad_pages(void)
{
	uint8_t *state = NULL;
	size_t slen;
	char err[256] = "";

	build(2 * RAM, RAM);			/* in the hole */
	CHECK(receive(stream_len, &state, &slen, err, sizeof(err)) == -EBADMSG && !state);
	CHECK(strstr(err, "not a page of guest RAM") != NULL);
	build(2 * RAM, 100);			/* unaligned */
	CHECK(receive(stream_len, &state, &slen, err, sizeof(err)) == -EBADMSG && !state);
	build(2 * RAM, (1 << 20) + RAM - 4096 + 2048);	/* runs past the region */
	CHECK(receive(stream_len, &state, &slen, err, sizeof(err)) == -EBADMSG && !state);
	build(4 * RAM, ~0ULL);			/* another machine */
	CHECK(receive(stream_len, &state, &slen, err, sizeof(err)) == -EINVAL && !state);
	CHECK(strstr(err, "--memory") != NULL);
}

/* ---- DISK records ---- */

#define DISK0 (3 * 65536 + 512)	/* the last block is short */
#define DISK1 8192
static uint8_t disk0[DISK0], disk1[DISK1];
static const uint64_t disk_sizes[2] = { DISK0, DISK1 };
static unsigned disk_writes;

static int fake_write(void *ctx, uint32_t disk, uint64_t off, const void *data, uint32_t len)
{
	uint8_t *img = disk ? disk1 : disk0;

	(void)ctx;
	/* the receiver promised a block inside the image: a broken promise fails the test */
	CHECK(disk < 2 && off <= disk_sizes[disk] && len <= disk_sizes[disk] - off);
	if (disk >= 2 || off > disk_sizes[disk] || len > disk_sizes[disk] - off)
		return -EIO;
	memcpy(img + off, data, len);
	disk_writes++;
	return 0;
}

static const struct mig_disks fake_disks = { 2, disk_sizes, fake_write, NULL };

/* A stream with one page, then DISK records (disk, off, len) from recs, then a state. raw_arg
 * (non-zero): the first record's header says that length instead (a lie). */
static void build_disks(const uint64_t (*recs)[3], int n, uint64_t raw_arg)
{
	static uint8_t blk[MIG_DISK_MAX_BLOCK + 1];
	uint8_t page[MIG_PAGE], state[64];
	struct mig_out o;
	int sv[2];
	ssize_t r;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (size_t i = 0; i < sizeof(blk); i++)
		blk[i] = (uint8_t)(i * 7 + 1);
	memset(page, 0x33, sizeof(page));
	memset(state, 0x44, sizeof(state));
	CHECK_EQ(mig_out_init(&o, sv[0], 0), 0);
	mig_out_hello(&o, 2 * RAM, 1);
	mig_out_page(&o, 0, page);
	for (int i = 0; i < n; i++)
		CHECK_EQ(mig_out_disk(&o, (uint32_t)recs[i][0], recs[i][1], blk, (uint32_t)recs[i][2]), 0);
	mig_out_state(&o, state, sizeof(state));
	CHECK_EQ(mig_out_flush(&o), 0);
	mig_out_free(&o);
	shutdown(sv[0], SHUT_WR);
	stream_len = 0;
	while ((r = read(sv[1], stream + stream_len, sizeof(stream) - stream_len)) > 0)
		stream_len += (size_t)r;
	close(sv[0]);
	close(sv[1]);
	if (raw_arg)	/* the first DISK record: after the hello (32), a page record (16 + 4096) */
		memcpy(stream + 32 + 16 + MIG_PAGE + 8, &raw_arg, 8);
}

static int receive_disks(size_t len, const struct mig_disks *d, char *err, size_t errlen)
{
	struct memsrc m = { stream, len, 0 };
	struct mig_in_stats st;
	uint8_t *state = NULL;
	size_t slen;
	int ret;

	ret = mig_receive(mem_read, &m, &gm, 1, d, &state, &slen, &st, err, errlen);
	CHECK(ret ? !state : state != NULL);
	free(state);
	return ret;
}

static void test_disk_roundtrip(void)
{
	static const uint64_t recs[][3] = { { 0, 65536, 8192 }, { 0, 3 * 65536, 512 }, { 1, 0, 8192 } };
	char err[256] = "";

	memset(disk0, 0xee, sizeof(disk0));
	memset(disk1, 0xee, sizeof(disk1));
	disk_writes = 0;
	build_disks(recs, 3, 0);
	CHECK_EQ(receive_disks(stream_len, &fake_disks, err, sizeof(err)), 0);
	CHECK_EQ(disk_writes, 3);
	CHECK_EQ(disk0[0], 0xee);			/* never sent: untouched */
	CHECK_EQ(disk0[65536 + 10], (uint8_t)(10 * 7 + 1));
	CHECK_EQ(disk0[3 * 65536 + 511], (uint8_t)(511 * 7 + 1));
	CHECK_EQ(disk1[8191], (uint8_t)(8191 * 7 + 1));
}

/* One hostile record: refused with err containing want, nothing written. */
static void hostile(uint64_t disk, uint64_t off, uint64_t len, uint64_t raw_arg,
		    const struct mig_disks *d, int want_ret, const char *want)
{
	const uint64_t rec[1][3] = { { disk, off, len } };
	char err[256] = "";

	disk_writes = 0;
	build_disks(rec, 1, raw_arg);
	CHECK_EQ(receive_disks(stream_len, d, err, sizeof(err)), want_ret);
	CHECK(strstr(err, want) != NULL);
	CHECK_EQ(disk_writes, 0);
}

static void test_disk_hostile(void)
{
	const struct mig_disks none = { 0, NULL, fake_write, NULL };

	hostile(0, DISK0, 512, 0, &fake_disks, -EINVAL, "larger than this one");	/* at the end */
	hostile(0, DISK0 - 511, 512, 0, &fake_disks, -EINVAL, "larger than this one");	/* across it */
	hostile(1, ~0ULL - 100, 512, 0, &fake_disks, -EINVAL, "larger than this one");	/* wraps */
	hostile(1, 1ULL << 63, 4096, 0, &fake_disks, -EINVAL, "larger than this one");
	hostile(2, 0, 512, 0, &fake_disks, -EINVAL, "give the same disks");		/* no disk 2 */
	hostile(0xffffffff, 0, 512, 0, &fake_disks, -EINVAL, "give the same disks");
	hostile(0, 0, 512, 0, NULL, -EINVAL, "no writable --disk");
	hostile(0, 0, 512, 0, &none, -EINVAL, "no writable --disk");
	/* the header's length against the block's, and against the largest block */
	hostile(0, 0, 512, 16 + 1024, &fake_disks, -EBADMSG, "a disk block of 512 bytes");
	hostile(0, 0, 512, 16, &fake_disks, -EBADMSG, "a disk record of 16 bytes");
	hostile(0, 0, 512, 16 + MIG_DISK_MAX_BLOCK + 1, &fake_disks, -EBADMSG, "a disk record of");
	hostile(0, 0, 512, ~0ULL, &fake_disks, -EBADMSG, "a disk record of");
	/* the sender refuses to make an empty or oversized block */
	{
		struct mig_out o;
		uint8_t b[1] = { 0 };

		CHECK_EQ(mig_out_init(&o, -1, 0), 0);
		CHECK_EQ(mig_out_disk(&o, 0, 0, b, 0), -EINVAL);
		CHECK_EQ(mig_out_disk(&o, 0, 0, b, MIG_DISK_MAX_BLOCK + 1), -EINVAL);
		mig_out_free(&o);
	}
}

static void test_disk_damage(void)
{
	static const uint64_t recs[][3] = { { 0, 0, 4096 }, { 1, 4096, 4096 } };
	size_t bad = 0, wrote_bad = 0;
	char err[256];

	build_disks(recs, 2, 0);
	for (size_t len = 0; len < stream_len; len++) {
		err[0] = '\0';
		if (receive_disks(len, &fake_disks, err, sizeof(err)) == 0 || !err[0])
			bad++;
	}
	CHECK_EQ(bad, 0);
	for (size_t i = 0; i < stream_len; i++) {
		stream[i] ^= 0x10;
		err[0] = '\0';
		disk_writes = 0;
		if (receive_disks(stream_len, &fake_disks, err, sizeof(err)) == 0 || !err[0])
			bad++;
		/* a flip inside a block: that block never reaches the disk */
		if (i >= 32 + 16 + MIG_PAGE && i < 32 + 16 + MIG_PAGE + 32 + 4096 && disk_writes)
			wrote_bad++;
		stream[i] ^= 0x10;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(wrote_bad, 0);
}

static void test_urls(void)
{
	char err[256];

	CHECK_EQ(mig_connect("ftp:x", err, sizeof(err)), -EINVAL);
	CHECK_EQ(mig_connect("tcp:127.0.0.1:0", err, sizeof(err)), -EINVAL);
	CHECK_EQ(mig_connect("tcp:127.0.0.1:99999", err, sizeof(err)), -EINVAL);
	CHECK_EQ(mig_connect("tcp:example.org:80", err, sizeof(err)), -EINVAL);
	CHECK_EQ(mig_connect("tcp:127.0.0.1", err, sizeof(err)), -EINVAL);
	CHECK_EQ(mig_connect("unix:", err, sizeof(err)), -EINVAL);
	CHECK(mig_connect("unix:/nonexistent/ckvm-mig.sock", err, sizeof(err)) < 0);
	CHECK(strstr(err, "cannot connect") != NULL);
}

int main(void)
{
	CHECK_EQ(gm_add_region(&gm, 0, RAM, ram0), 0);
	CHECK_EQ(gm_add_region(&gm, 1 << 20, RAM, ram1), 0);
	RUN(test_roundtrip);
	RUN(test_truncations);
	RUN(test_flips);
	RUN(test_bad_pages);
	RUN(test_disk_roundtrip);
	RUN(test_disk_hostile);
	RUN(test_disk_damage);
	RUN(test_urls);
	return test_summary();
}
