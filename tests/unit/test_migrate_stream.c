/* The live-migration stream (core/migrate_stream.c) against hostile bytes: a round trip into a
 * guest_mem of two regions with a hole; every truncation and every single-byte flip refused with a
 * message and no state handed back; pages outside RAM or unaligned refused before their data is
 * read; another RAM size refused at the hello; bad addresses. No KVM, no network (a socketpair). */
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
static uint8_t stream[64 << 10];
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
	RUN(test_urls);
	return test_summary();
}
